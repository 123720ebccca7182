# -*- Python -*-
# lit configuration of the tfm regression tests.
import os

import lit.formats

config.name = "tfm"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tfm_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

# tfm's tools first, then LLVM's FileCheck, not, count, split-file.
config.environment["PATH"] = os.pathsep.join(
    [config.tfm_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
# Debian's python3 (numpy, torch), never a pyenv shim that cannot import them.
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%examples", os.path.join(config.tfm_src_root, "examples")))
config.substitutions.append(("%tfm_src_root", config.tfm_src_root))
config.substitutions.append(("%tfm_obj_root", config.tfm_obj_root))
# The CMake, build tool and compiler tfm was configured with (install.test).
config.substitutions.append(("%cmake", config.cmake))
config.substitutions.append(("%make_program", config.cmake_make_program))
config.substitutions.append(("%cxx", config.cxx_compiler))

# -DTFM_SANITIZE=ON: every tool and executable runs under ASan + UBSan.
# Leak checking is off: oneDNN's and OpenMP's process-lifetime caches are
# not freed at exit by design. Tests whose numbers depend on memory use or
# speed say `UNSUPPORTED: asan`.
if getattr(config, "tfm_sanitize", False):
    config.available_features.add("asan")
    config.environment["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0"
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
