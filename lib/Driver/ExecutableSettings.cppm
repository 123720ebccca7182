//===- ExecutableSettings.cppm - What tfmc tells an executable ---*- C++ -*-===//
//
// The `tfm.executable_settings` module: the settings tfmc chooses for an
// executable that are not part of the model's IR (where its weights are,
// the matmul precision it was compiled for, whether the vocabulary is
// embedded, the special token ids of its configuration), emitted as `const tfm_settings tfm_executable_settings`
// (include/tfm/Runtime/tfm_runtime.h) into the LLVM module next to the
// compiled model.
//
//===----------------------------------------------------------------------===//

module;
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include <cstdint>
#include <string>
#include <vector>
export module tfm.executable_settings;

export namespace tfm::driver {

/// tfm_settings, as tfmc fills it.
struct ExecutableSettings {
  std::string weights; ///< a tfm_rt_set_weights spec ("embedded", "beside:F", "file:P", "random:S"), or ""
  std::string dtype = "f32";
  int32_t tokenizer = 0; ///< what tokenizer is embedded: a tfm_tokenizer_kind
  int64_t bosTokenId = -1;           ///< the model's BOS id, or -1: the tokenizer's
  std::vector<int64_t> eosTokenIds;  ///< the ids generation stops at; empty: the tokenizer's EOS
  /// Encoders: sentence-transformers' pooling (a tfm_pooling), whether a
  /// Normalize module follows, and max_seq_length (0: the context).
  int32_t pooling = 0;
  bool normalize = false;
  int64_t maxSeqLength = 0;
};

/// Adds `tfm_executable_settings` to `module`.
void addExecutableSettings(llvm::Module &module, const ExecutableSettings &settings) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto string = [&](const std::string &text, const char *name) -> llvm::Constant * {
    llvm::Constant *data = llvm::ConstantDataArray::getString(ctx, text, /*AddNull=*/true);
    return new llvm::GlobalVariable(module, data->getType(), /*isConstant=*/true,
                                    llvm::GlobalValue::PrivateLinkage, data, name);
  };
  // tfm_settings {const char *weights; const char *dtype; int32_t tokenizer;
  //               int64_t bos_token_id; int32_t num_eos_token_ids;
  //               const int64_t *eos_token_ids; int32_t pooling;
  //               int32_t normalize; int64_t max_seq_length}
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *eosType = llvm::ArrayType::get(i64, settings.eosTokenIds.size());
  llvm::Constant *eos = new llvm::GlobalVariable(
      module, eosType, /*isConstant=*/true, llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantDataArray::get(ctx, llvm::ArrayRef<uint64_t>(
                                            reinterpret_cast<const uint64_t *>(
                                                settings.eosTokenIds.data()),
                                            settings.eosTokenIds.size())),
      "tfm_executable_settings.eos_token_ids");
  auto *type = llvm::StructType::get(ctx, {ptr, ptr, i32, i64, i32, ptr, i32, i32, i64});
  llvm::Constant *value = llvm::ConstantStruct::get(
      type, {string(settings.weights, "tfm_executable_settings.weights"),
             string(settings.dtype, "tfm_executable_settings.dtype"),
             llvm::ConstantInt::get(i32, settings.tokenizer),
             llvm::ConstantInt::get(i64, settings.bosTokenId, /*IsSigned=*/true),
             llvm::ConstantInt::get(i32, settings.eosTokenIds.size()), eos,
             llvm::ConstantInt::get(i32, settings.pooling),
             llvm::ConstantInt::get(i32, settings.normalize ? 1 : 0),
             llvm::ConstantInt::get(i64, settings.maxSeqLength)});
  new llvm::GlobalVariable(module, type, /*isConstant=*/true, llvm::GlobalValue::ExternalLinkage,
                           value, "tfm_executable_settings");
}

} // namespace tfm::driver
