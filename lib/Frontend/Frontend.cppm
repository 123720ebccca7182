//===- Frontend.cppm - Model descriptions -> tfm IR, by model_type -*- C++ -*-===//
//
// The `tfm.frontend` module: reads config.json's model_type and asks the
// registry for the family (lib/Frontend/Models/*) that reads the rest of the
// configuration into a ModelConfig and builds the model as decomposed tfm
// IR on the shared blocks (Blocks.cppm). Nothing here is family-specific.
//
//===----------------------------------------------------------------------===//

module;
#include "tfm/Dialect/Tfm/IR/Tfm.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include <string>
export module tfm.frontend;

export import tfm.frontend.blocks;
import tfm.frontend.models.bert;
import tfm.frontend.models.gpt2;
import tfm.frontend.models.gpt_neox;
import tfm.frontend.models.llama;

export namespace tfm::frontend {

/// Parses and checks config.json with the reader of its model_type; errors
/// are one line: `path: key: what` (an unknown model_type lists the
/// supported ones).
llvm::Expected<ModelConfig> parseConfig(const std::string &path);

/// Builds the model as decomposed tfm IR (see docs/model-description.md for
/// the entry function). Checks that every tensor the model needs exists with
/// the right shape and a supported dtype.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, const ModelConfig &config, const Weights &weights);

/// The model_type values the registry knows, in order.
std::string supportedModelTypes();

} // namespace tfm::frontend

namespace tfm::frontend {

namespace {
/// One registry entry: a model_type, the reader of its config keys and the
/// builder of its forward pass.
struct Family {
  llvm::StringLiteral modelType;
  llvm::Error (*read)(const HfConfig &, ModelConfig &);
  llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> (*build)(ModelBuilder &, const Weights &);
};

llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> buildGpt2(ModelBuilder &m, const Weights &w) {
  // Checkpoints saved from GPT2LMHeadModel name the body "transformer.".
  return models::buildGpt2(m, w.file && w.file->contains("transformer.wte.weight"));
}
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> buildLlama(ModelBuilder &m, const Weights &) {
  return models::buildLlama(m);
}
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> buildGptNeoX(ModelBuilder &m, const Weights &) {
  return models::buildGptNeoX(m);
}
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> buildBert(ModelBuilder &m, const Weights &) {
  return models::buildBert(m);
}

constexpr Family kFamilies[] = {
    {"gpt2", models::readGpt2, buildGpt2},
    {"llama", models::readLlama, buildLlama},
    {"mistral", models::readLlama, buildLlama},
    {"qwen2", models::readLlama, buildLlama},
    {"gpt_neox", models::readGptNeoX, buildGptNeoX},
    {"bert", models::readBert, buildBert},
};

const Family *lookup(llvm::StringRef modelType) {
  for (const Family &f : kFamilies)
    if (f.modelType == modelType)
      return &f;
  return nullptr;
}
} // namespace

std::string supportedModelTypes() {
  std::string s;
  for (const Family &f : kFamilies)
    s += (s.empty() ? "" : ", ") + f.modelType.str();
  return s;
}

llvm::Expected<ModelConfig> parseConfig(const std::string &path) {
  auto h = HfConfig::read(path);
  if (!h)
    return h.takeError();
  ModelConfig c;
  c.path = path;
  c.text = h->text();
  std::string modelType;
  const llvm::json::Value *v = h->root().get("model_type");
  if (!v)
    return h->fail("missing key 'model_type' (expected one of " + supportedModelTypes() + ")");
  if (auto e = h->string({"model_type"}, modelType))
    return std::move(e);
  const Family *family = lookup(modelType);
  if (!family)
    return h->fail("key 'model_type' is \"" + modelType + "\"; supported are " +
                   supportedModelTypes());
  c.modelType = modelType;
  if (auto e = family->read(*h, c))
    return std::move(e);
  GenerationConfig ids;
  if (auto e = readSpecialTokenIds(h->root(), path, c.vocabSize, ids))
    return std::move(e);
  c.eosTokenIds = ids.eosTokenIds.value_or(std::vector<int64_t>{});
  c.bosTokenId = ids.bosTokenId.value_or(-1);
  return c;
}

llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, const ModelConfig &config, const Weights &weights) {
  context.loadDialect<TfmDialect, mlir::func::FuncDialect>();
  const Family *family = lookup(config.modelType);
  if (!family)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   config.path + ": key 'model_type' is \"" + config.modelType +
                                       "\"; supported are " + supportedModelTypes());
  ModelBuilder builder(context, config, weights);
  return family->build(builder, weights);
}

} // namespace tfm::frontend
