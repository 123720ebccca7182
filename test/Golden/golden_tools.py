"""Helpers shared by the golden checkers (check_model.py, check_exe.py)."""
import subprocess
import sys


def run(*args, env=None, echo=False):
    """Runs a tool; on failure prints its output and exits 1. Returns stdout
    (also printed if `echo`)."""
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    if echo:
        sys.stdout.write(p.stdout)
    if p.returncode != 0:
        sys.stdout.write(("" if echo else p.stdout) + p.stderr)
        print(f"FAILED: {' '.join(args)}")
        sys.exit(1)
    return p.stdout
