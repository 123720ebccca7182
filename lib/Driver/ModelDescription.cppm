//===- ModelDescription.cppm - A model directory, loaded -------*- C++ -*-===//
//
// The `tfm.driver.model_description` module: what tfmc does with a model
// description before any pass runs. It reads config.json (tfm.frontend),
// finds the weights (model.safetensors, or the shards a
// model.safetensors.index.json names, merged into one file; a
// pytorch_model.bin is refused with how to convert it), finds the tokenizer
// files (the model's own, or GPT-2's installed vocabulary) and loads them
// with the executables' tokenizer, and builds the tfm IR. Also where tfmc
// finds what it links and embeds (installation()).
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Driver/Paths.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>
export module tfm.driver.model_description;

import tfm.frontend;
import tfm.driver.sentence_transformers;
import tfm.safetensors;
import tfm.tokenizer;
import tfm.tokenizer.hf;
import tfm.tokenizer.gpt2_files;
import tfm.output_file;

export namespace tfm::driver {

/// Where tfmc finds what it links and embeds, relative to its own executable
/// (PREFIX/bin/tfmc), so that an installed or moved tree works without the
/// build tree: the runtime archives in PREFIX/lib and GPT-2's vocabulary in
/// PREFIX/share/tfm/gpt-2 (the same layout in the build tree and after
/// `cmake --install`).
struct Installation {
  std::string prefix;        ///< PREFIX
  std::string libDir;        ///< PREFIX/lib: libtfm_exe.a, libtfm_runtime.a, ...
  std::string vocabularyDir; ///< PREFIX/share/tfm/gpt-2: encoder.json, vocab.bpe
};
Installation installation();

/// tfm's version (CMake's project version).
const char *version();

/// A model description loaded as tfm IR, and the files the executable embeds.
struct ModelDescription {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string vocabEncoder, vocabMerges; ///< GPT-2 tokenizer files (absolute), or empty
  /// tokenizer.json (and tokenizer_config.json) loaded and written as the
  /// image the executable embeds (tfm.tokenizer.hf), or empty; the file is
  /// removed with removeTokenizerImage.
  std::string tokenizerImage;
  std::string tokenizerDescription; ///< which tokenizer, and its pipeline
  /// The ids generation stops at and an empty prompt starts from:
  /// generation_config.json's eos_token_id / bos_token_id where it has the
  /// key, else config.json's (empty / -1: the tokenizer's own).
  std::vector<int64_t> eosTokenIds;
  int64_t bosTokenId = -1;
  /// Encoders: how sentence embeddings pool (sentence-transformers' files).
  Pooling pooling;
  std::unique_ptr<llvm::FileRemover> removeTokenizerImage;
  /// A merged file of shards, removed when this is destroyed (released when
  /// the IR keeps naming it).
  std::unique_ptr<llvm::FileRemover> removeMerged;
};

/// Loads the model described by `configPath`: random weights from
/// `randomWeights` instead of a file; `quiet`: no notes; `keepMerged`: the
/// IR is the output (a merged file of shards stays, the IR names it).
/// Returns 0, or the exit status after printing the error.
/// `tokenizerOnly`: only the tokenizer and the special ids (out.module stays
/// null; no weights are read).
int loadModelDescription(mlir::MLIRContext &context, const std::string &configPath,
                         std::optional<uint64_t> randomWeights, bool quiet, bool keepMerged,
                         ModelDescription &out, bool tokenizerOnly = false);

} // namespace tfm::driver

namespace tfm::driver {

Installation installation() {
  static int anchor;
  llvm::SmallString<256> prefix(llvm::sys::fs::getMainExecutable(nullptr, &anchor));
  llvm::sys::path::remove_filename(prefix); // PREFIX/bin
  llvm::sys::path::remove_filename(prefix); // PREFIX
  Installation i;
  i.prefix = std::string(prefix);
  llvm::SmallString<256> lib(prefix), vocabulary(prefix);
  llvm::sys::path::append(lib, "lib");
  llvm::sys::path::append(vocabulary, "share", "tfm", "gpt-2");
  i.libDir = std::string(lib);
  i.vocabularyDir = std::string(vocabulary);
  return i;
}

const char *version() { return TFM_VERSION; }

namespace {
/// Prints `error: message` to stderr; returns 1.
int fail(const llvm::Twine &message) {
  llvm::errs() << "tfmc: error: " << message << "\n";
  return 1;
}

/// Writes `image` (an HfTokenizer image) to a temporary file that
/// out.tokenizerImage names and out.removeTokenizerImage removes.
int writeTokenizerImage(const std::string &image, ModelDescription &out) {
  llvm::SmallString<128> imagePath;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("tfm-tokenizer", "bin", fd, imagePath))
    return fail(tfm::output::temporaryDirectoryProblem().empty()
                    ? "cannot create a temporary file: " + ec.message()
                    : tfm::output::temporaryDirectoryProblem());
  out.removeTokenizerImage = std::make_unique<llvm::FileRemover>(imagePath);
  llvm::sys::RemoveFileOnSignal(imagePath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << image;
    os.close();
    if (os.has_error())
      return fail("cannot write '" + imagePath + "': " + os.error().message());
  }
  out.tokenizerImage = std::string(imagePath);
  return 0;
}
} // namespace

int loadModelDescription(mlir::MLIRContext &context, const std::string &configPath,
                         std::optional<uint64_t> randomWeights, bool quiet, bool keepMerged,
                         ModelDescription &out, bool tokenizerOnly) {
  auto config = frontend::parseConfig(std::string(configPath));
  if (!config)
    return fail(llvm::toString(config.takeError()));
  // The tokenizer, in this order: the model directory's tokenizer.json
  // (Hugging Face's tokenizers format, with tokenizer_config.json when
  // present), its vocab.json + merges.txt (or OpenAI's encoder.json +
  // vocab.bpe), else GPT-2's vocabulary when the model has GPT-2's 50257
  // tokens and no tokenizer file at all. Half a pair is an error naming the
  // missing file, never a silent substitute.
  llvm::StringRef dir = llvm::sys::path::parent_path(configPath);
  size_t tokenizerEntries = 0; // the largest id + 1 of the tokenizer found
  int64_t tokenizerBos = -1, tokenizerEos = -1; // its BOS and EOS, if any
  std::string tokenizerLabel;  // its file(s), for warnings
  llvm::SmallString<256> tokenizerJson(dir), tokenizerConfig(dir);
  llvm::sys::path::append(tokenizerJson, "tokenizer.json");
  llvm::sys::path::append(tokenizerConfig, "tokenizer_config.json");
  if (llvm::sys::fs::exists(tokenizerJson)) {
    auto json = llvm::MemoryBuffer::getFile(tokenizerJson, /*IsText=*/true);
    if (!json)
      return fail("cannot read '" + tokenizerJson + "': " + json.getError().message());
    tfm::output::protectInput(std::string(tokenizerJson));
    std::unique_ptr<llvm::MemoryBuffer> configText;
    if (llvm::sys::fs::exists(tokenizerConfig)) {
      auto c = llvm::MemoryBuffer::getFile(tokenizerConfig, /*IsText=*/true);
      if (!c)
        return fail("cannot read '" + tokenizerConfig + "': " + c.getError().message());
      tfm::output::protectInput(std::string(tokenizerConfig));
      configText = std::move(*c);
    }
    std::string image;
    try {
      tokenizer::HfTokenizer t((*json)->getBuffer(),
                               configText ? configText->getBuffer() : llvm::StringRef(),
                               std::string(tokenizerJson), std::string(tokenizerConfig));
      image = t.image();
      tokenizerEntries = t.size();
      tokenizerLabel = std::string(tokenizerJson);
      out.tokenizerDescription = "tokenizer: " + std::string(tokenizerJson) + "\n" + t.describe();
      tokenizerBos = t.role(tokenizer::Role::Bos).value_or(-1);
      tokenizerEos = t.role(tokenizer::Role::Eos).value_or(-1);
    } catch (const std::exception &e) {
      return fail(e.what());
    }
    if (int rc = writeTokenizerImage(image, out))
      return rc;
  }
  bool vocabInDirectory = false; // not GPT-2's, which tfmc ships
  for (auto [enc, merges] : {std::pair{"vocab.json", "merges.txt"},
                             std::pair{"encoder.json", "vocab.bpe"}}) {
    llvm::SmallString<256> e(dir), m(dir);
    llvm::sys::path::append(e, enc);
    llvm::sys::path::append(m, merges);
    bool hasE = llvm::sys::fs::exists(e), hasM = llvm::sys::fs::exists(m);
    if (!out.tokenizerImage.empty() || !out.vocabEncoder.empty())
      continue;
    if (hasE != hasM)
      return fail("the tokenizer in '" + dir + "' is incomplete: '" + (hasE ? e : m) +
                  "' is there but '" + (hasE ? m : e) +
                  "' is missing (give both, or a tokenizer.json)");
    if (hasE) {
      out.vocabEncoder = std::string(e);
      out.vocabMerges = std::string(m);
      vocabInDirectory = true;
    }
  }
  if (out.tokenizerImage.empty() && out.vocabEncoder.empty() && config->vocabSize == 50257) {
    llvm::SmallString<256> e(installation().vocabularyDir), m(e);
    llvm::sys::path::append(e, "encoder.json");
    llvm::sys::path::append(m, "vocab.bpe");
    if (llvm::sys::fs::exists(e) && llvm::sys::fs::exists(m)) {
      out.vocabEncoder = std::string(e);
      out.vocabMerges = std::string(m);
      if (!quiet)
        llvm::errs() << "tfmc: note: no tokenizer files in '" << dir
                     << "': using GPT-2's vocabulary (the model has its 50257 tokens)\n";
    }
  }
  for (std::string *p : {&out.vocabEncoder, &out.vocabMerges}) {
    if (p->empty())
      continue;
    llvm::SmallString<256> abs(*p);
    (void)llvm::sys::fs::make_absolute(abs);
    *p = std::string(abs);
  }
  // The vocabulary the executable will embed, loaded with the executables'
  // own tokenizer: a malformed file is an error now, naming it. A
  // vocabulary padded beyond the tokenizer (nanoGPT and llm.c pad GPT-2's
  // 50257 to 50304) works: the executables decode such ids to no text.
  if (!out.vocabEncoder.empty()) {
    auto encoder = llvm::MemoryBuffer::getFile(out.vocabEncoder, /*IsText=*/true);
    auto merges = llvm::MemoryBuffer::getFile(out.vocabMerges, /*IsText=*/true);
    tfm::output::protectInput(out.vocabEncoder);
    tfm::output::protectInput(out.vocabMerges);
    if (!encoder || !merges)
      return fail("cannot read '" + (encoder ? out.vocabMerges : out.vocabEncoder) + "': " +
                  (encoder ? merges.getError() : encoder.getError()).message());
    try {
      tokenizer::Tokenizer t((*encoder)->getBuffer(), (*merges)->getBuffer(), out.vocabEncoder,
                             out.vocabMerges);
      tokenizerEntries = t.size();
      tokenizerLabel = out.vocabEncoder;
      tokenizerBos = tokenizerEos = t.endOfText();
      out.tokenizerDescription = "tokenizer: " + out.vocabEncoder + " + " + out.vocabMerges +
                                 (vocabInDirectory ? "" : " (GPT-2's, shipped with tfm)") +
                                 "\nGPT-2 byte-level BPE (" + std::to_string(t.size()) +
                                 " tokens; <|endoftext|> is BOS and EOS)\n";
    } catch (const std::exception &e) {
      return fail(e.what());
    }
  }
  // A fine-tune's added_tokens.json beside vocab.json + merges.txt: the
  // files become the tokenizer.json transformers' GPT2TokenizerFast builds
  // (added tokens split the text), embedded as its image.
  llvm::SmallString<256> addedTokens(dir);
  llvm::sys::path::append(addedTokens, "added_tokens.json");
  if (vocabInDirectory && llvm::sys::fs::exists(addedTokens)) {
    llvm::SmallString<256> tokenizerMap(dir);
    llvm::sys::path::append(tokenizerMap, "special_tokens_map.json");
    std::vector<std::unique_ptr<llvm::MemoryBuffer>> texts;
    (void)llvm::sys::fs::make_absolute(addedTokens);
    (void)llvm::sys::fs::make_absolute(tokenizerConfig);
    (void)llvm::sys::fs::make_absolute(tokenizerMap);
    std::vector<std::string> names = {out.vocabEncoder, out.vocabMerges,
                                      std::string(addedTokens), std::string(tokenizerConfig),
                                      std::string(tokenizerMap)};
    for (size_t i = 0; i < names.size(); ++i) {
      if (i >= 3 && !llvm::sys::fs::exists(names[i])) {
        texts.push_back(llvm::MemoryBuffer::getMemBuffer(""));
        continue;
      }
      auto text = llvm::MemoryBuffer::getFile(names[i], /*IsText=*/true);
      if (!text)
        return fail("cannot read '" + names[i] + "': " + text.getError().message());
      tfm::output::protectInput(names[i]);
      texts.push_back(std::move(*text));
    }
    std::string image;
    try {
      tokenizer::Gpt2Files files{texts[0]->getBuffer(), texts[1]->getBuffer(),
                                 texts[2]->getBuffer(), texts[3]->getBuffer(),
                                 texts[4]->getBuffer(), names[0], names[1], names[2], names[3],
                                 names[4]};
      std::unique_ptr<tokenizer::HfTokenizer> t = tokenizer::loadGpt2Files(files);
      image = t->image();
      tokenizerEntries = t->size();
      tokenizerLabel += " + " + names[2];
      out.tokenizerDescription = "tokenizer: " + out.vocabEncoder + " + " + out.vocabMerges +
                                 " + " + names[2] + " (as GPT2TokenizerFast's tokenizer.json)\n" +
                                 t->describe();
      tokenizerBos = t->role(tokenizer::Role::Bos).value_or(-1);
      tokenizerEos = t->role(tokenizer::Role::Eos).value_or(-1);
    } catch (const std::exception &e) {
      return fail(e.what());
    }
    if (int rc = writeTokenizerImage(image, out))
      return rc;
    out.vocabEncoder.clear();
    out.vocabMerges.clear();
  }
  // A tokenizer with ids the model lacks, or GPT-2 files with fewer ids than
  // the model: warned, not refused (nanoGPT and llm.c pad GPT-2's 50257 to
  // 50304; the executables decode such ids to no text).
  if (tokenizerEntries > 0 && static_cast<int64_t>(tokenizerEntries) > config->vocabSize)
    llvm::errs() << "tfmc: warning: the tokenizer (" << tokenizerLabel << ") has ids up to "
                 << tokenizerEntries - 1 << " but vocab_size is " << config->vocabSize
                 << ": a text whose tokens include ids " << config->vocabSize << ".."
                 << tokenizerEntries - 1 << " cannot run (--prompt-ids and other texts can)\n";
  if (tokenizerEntries > 0 && static_cast<int64_t>(tokenizerEntries) < config->vocabSize &&
      tokenizerLabel != tokenizerJson) // (Qwen's tokenizer.json is smaller than its model)
    llvm::errs() << "tfmc: warning: vocab_size " << config->vocabSize
                 << " is larger than the tokenizer's " << tokenizerEntries << " entries ("
                 << tokenizerLabel << "): ids " << tokenizerEntries << ".."
                 << config->vocabSize - 1 << " decode to no text\n";
  // The ids generation starts from and stops at.
  out.eosTokenIds = config->eosTokenIds;
  out.bosTokenId = config->bosTokenId;
  llvm::SmallString<256> generationConfig(dir);
  llvm::sys::path::append(generationConfig, "generation_config.json");
  if (llvm::sys::fs::exists(generationConfig)) {
    auto g = frontend::parseGenerationConfig(std::string(generationConfig), config->vocabSize);
    if (!g)
      return fail(llvm::toString(g.takeError()));
    if (g->eosTokenIds)
      out.eosTokenIds = *g->eosTokenIds;
    if (g->bosTokenId)
      out.bosTokenId = *g->bosTokenId;
  }
  if (out.tokenizerDescription.empty())
    out.tokenizerDescription = "tokenizer: none (the executable takes --prompt-ids and prints ids)\n";
  std::string from = llvm::sys::fs::exists(generationConfig) ? "generation_config.json or config.json"
                                                             : "config.json";
  std::string stops;
  for (int64_t id : out.eosTokenIds)
    stops += (stops.empty() ? "" : ", ") + std::to_string(id);
  out.tokenizerDescription +=
      "generation starts an empty prompt from " +
      (out.bosTokenId >= 0 ? "id " + std::to_string(out.bosTokenId) + " (" + from + ")"
       : tokenizerBos >= 0 ? "id " + std::to_string(tokenizerBos) + " (the tokenizer's BOS)"
       : tokenizerEos >= 0 ? "id " + std::to_string(tokenizerEos) + " (the tokenizer's EOS)"
                           : config->vocabSize > 50256 ? std::string("id 50256 (GPT-2's end of text)")
                                                       : std::string("id 0")) +
      " and stops at " +
      (!out.eosTokenIds.empty() ? "ids [" + stops + "] (" + from + ")"
       : tokenizerEos >= 0 ? "id " + std::to_string(tokenizerEos) + " (the tokenizer's EOS)"
                           : std::string("no id")) +
      "\n";
  if (config->encoder) {
    auto pooling = readSentenceTransformers(dir, config->width);
    if (!pooling)
      return fail(llvm::toString(pooling.takeError()));
    out.pooling = *pooling;
    out.tokenizerDescription += "sentence embeddings: " + pooling->description + "\n";
  }
  if (tokenizerOnly)
    return 0;
  frontend::Weights weights;
  std::pair<std::string, std::string> namedWeights; // {merged file, what to call it}
  std::unique_ptr<safetensors::File> file;
  if (randomWeights) {
    weights.randomSeed = randomWeights;
    llvm::errs() << "tfmc: note: no weights file is read: deterministic random weights "
                    "from seed "
                 << *randomWeights << "\n";
  } else {
    std::string mergedFrom; // the index, when weightsPath is the merged shards
    llvm::SmallString<256> weightsPath(llvm::sys::path::parent_path(configPath));
    llvm::sys::path::append(weightsPath, "model.safetensors");
    llvm::SmallString<256> indexPath(weightsPath), picklePath(weightsPath);
    indexPath += ".index.json";
    llvm::sys::path::remove_filename(picklePath);
    llvm::sys::path::append(picklePath, "pytorch_model.bin");
    if (!llvm::sys::fs::exists(weightsPath) && llvm::sys::fs::exists(indexPath)) {
      // A sharded checkpoint (transformers' save_pretrained past its shard
      // size): merged into one temporary file, which is what the frontend
      // reads and what the executable embeds.
      llvm::SmallString<128> merged;
      if (std::error_code ec =
              llvm::sys::fs::createTemporaryFile("tfm-merged", "safetensors", merged))
        return fail(tfm::output::temporaryDirectoryProblem().empty()
                        ? "cannot create a temporary file: " + ec.message()
                        : tfm::output::temporaryDirectoryProblem());
      out.removeMerged = std::make_unique<llvm::FileRemover>(merged);
      llvm::sys::RemoveFileOnSignal(merged); // and by the fatal-error handler
      std::string error;
      if (!safetensors::File::mergeShards(std::string(indexPath), std::string(merged), error))
        return fail(error);
      if (!quiet)
        llvm::errs() << "tfmc: note: weights from the shards of '" << indexPath << "'\n";
      // IR text names its weights file (tfm.weights): then the merged file
      // stays, for tfmc, tfm-opt and tfm-ref to read the IR later.
      if (keepMerged) {
        out.removeMerged->releaseFile();
        llvm::sys::DontRemoveFileOnSignal(merged);
        llvm::errs() << "tfmc: note: the IR's weights are the merged file '" << merged
                     << "' (kept)\n";
      }
      weightsPath = merged;
      mergedFrom = std::string(indexPath);
    } else if (!llvm::sys::fs::exists(weightsPath) && llvm::sys::fs::exists(picklePath)) {
      return fail("'" + picklePath +
                  "' is a PyTorch pickle checkpoint, which tfm does not read (unpickling can "
                  "run code); convert it to model.safetensors, e.g. with transformers: "
                  "GPT2LMHeadModel.from_pretrained(DIR).save_pretrained(DIR, "
                  "safe_serialization=True)");
    } else if (!llvm::sys::fs::exists(weightsPath) &&
               llvm::sys::fs::exists(picklePath + ".index.json")) {
      return fail("'" + picklePath +
                  ".index.json' names PyTorch pickle shards, which tfm does not read "
                  "(unpickling can run code); convert them to safetensors, e.g. with "
                  "transformers: GPT2LMHeadModel.from_pretrained(DIR).save_pretrained(DIR, "
                  "safe_serialization=True)");
    } else if (!llvm::sys::fs::exists(weightsPath)) {
      return fail("no weights file '" + weightsPath +
                  "' (pass --random-weights=SEED to build random weights from config.json alone)");
    }
    std::string error;
    file = safetensors::File::open(std::string(weightsPath), error);
    if (!file)
      return fail(error);
    weights.file = file.get();
    // Errors about the merged file name the index the user gave, not a
    // temporary file.
    if (!mergedFrom.empty())
      namedWeights = {std::string(weightsPath), mergedFrom + " (its shards, merged)"};
  }
  auto imported = frontend::importModel(context, *config, weights);
  if (!imported) {
    std::string message = llvm::toString(imported.takeError());
    if (!namedWeights.first.empty())
      for (size_t at; (at = message.find(namedWeights.first)) != std::string::npos;)
        message.replace(at, namedWeights.first.size(), namedWeights.second);
    return fail(message);
  }
  out.module = std::move(*imported);
  if (mlir::failed(mlir::verify(*out.module)))
    return fail("internal error: the frontend built invalid IR");
  return 0;
}

} // namespace tfm::driver
