//===- TfmAttributes.cpp - Verify the tfm.* discardable attributes --------===//
//
// The frontend records facts about a model on the module (`tfm.weights`,
// `tfm.context_length`, ...) and on the entry function's arguments and
// results (`tfm.name`, `tfm.role`, `tfm.layer`); later stages (the
// reference evaluator, convert-onednn-to-func's model info) read them. The
// dialect checks each one's kind and value wherever it appears, so a
// misspelled or mistyped attribute in hand-written IR is an error at parse
// time, not a surprise in the executable.
//
//===----------------------------------------------------------------------===//

#include "tfm/Dialect/Tfm/IR/Tfm.h"
#include "tfm/Runtime/tfm_runtime.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace tfm;

std::optional<int32_t> tfm::bufferRoleCode(StringRef role) {
  return llvm::StringSwitch<std::optional<int32_t>>(role)
      .Case("tokens", TFM_ROLE_TOKENS)
      .Case("positions", TFM_ROLE_POSITIONS)
      .Case("logit_rows", TFM_ROLE_LOGIT_ROWS)
      .Case("logits", TFM_ROLE_LOGITS)
      .Case("past_key", TFM_ROLE_PAST_KEY)
      .Case("past_value", TFM_ROLE_PAST_VALUE)
      .Case("present_key", TFM_ROLE_PRESENT_KEY)
      .Case("present_value", TFM_ROLE_PRESENT_VALUE)
      .Case("token_types", TFM_ROLE_TOKEN_TYPES)
      .Case("hidden", TFM_ROLE_HIDDEN)
      .Case("sequence_ids", TFM_ROLE_SEQUENCE_IDS)
      .Default(std::nullopt);
}

namespace {
/// A non-negative (or, with `positive`, non-zero) integer attribute below
/// 2^`bits`, or an error naming it.
LogicalResult nonNegative(Operation *op, NamedAttribute attr, unsigned bits = 63,
                          bool positive = false) {
  auto i = dyn_cast<IntegerAttr>(attr.getValue());
  if (!i || i.getValue().isNegative() || i.getValue().getActiveBits() > bits ||
      (positive && i.getValue().isZero()))
    return op->emitError() << "'" << attr.getName().getValue() << "' must be a "
                           << (positive ? "positive" : "non-negative") << " integer below 2^"
                           << bits << ", got " << attr.getValue();
  return success();
}

/// tfm.name, tfm.role and tfm.layer on an argument or result (`what`).
LogicalResult verifyBufferAttr(Operation *op, NamedAttribute attr, const Twine &what) {
  StringRef name = attr.getName().getValue();
  if (name == "tfm.name") {
    if (!isa<StringAttr>(attr.getValue()))
      return op->emitError() << "'tfm.name' of " << what << " must be a string";
    return success();
  }
  if (name == "tfm.role") {
    auto role = dyn_cast<StringAttr>(attr.getValue());
    if (!role || !bufferRoleCode(role.getValue()))
      return op->emitError() << "'tfm.role' of " << what << " must be one of tokens, "
                             << "positions, logit_rows, logits, past_key, past_value, "
                                "present_key, present_value, token_types, hidden, sequence_ids; got "
                             << attr.getValue();
    return success();
  }
  if (name == "tfm.layer")
    return nonNegative(op, attr, 31);
  return op->emitError() << "unknown attribute '" << name << "' on " << what
                         << " (tfm knows tfm.name, tfm.role, tfm.layer)";
}
} // namespace

LogicalResult TfmDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  // convert-onednn-to-func's record of the entry's buffer types, for
  // tfm-emit-entry (on the function before and after the lowering to LLVM).
  if (name == "tfm.entry_types") {
    auto types = dyn_cast<ArrayAttr>(attr.getValue());
    if (!isa<FunctionOpInterface>(op) || !types ||
        !llvm::all_of(types, [](Attribute a) {
          auto t = dyn_cast<TypeAttr>(a);
          auto mt = t ? dyn_cast<MemRefType>(t.getValue()) : MemRefType();
          return mt && mt.getLayout().isIdentity();
        }))
      return op->emitError() << "'tfm.entry_types' must be an array of identity-layout "
                                "memref types on a function";
    return success();
  }
  if (!isa<ModuleOp>(op))
    return op->emitError() << "'" << name << "' belongs on a module";
  // The positions the model has (0 would be "no limit" to the executables,
  // which is what leaving the attribute out says).
  if (name == "tfm.context_length")
    return nonNegative(op, attr, 63, /*positive=*/true);
  if (name == "tfm.random_weights")
    return nonNegative(op, attr);
  if (name == "tfm.weights" || name == "tfm.config") {
    auto path = dyn_cast<StringAttr>(attr.getValue());
    if (!path || path.getValue().empty())
      return op->emitError() << "'" << name << "' must be a non-empty string (a file path)";
    return success();
  }
  return op->emitError() << "unknown module attribute '" << name
                         << "' (tfm knows tfm.context_length, tfm.weights, "
                            "tfm.random_weights, tfm.config; and tfm.entry_types on a function)";
}

LogicalResult TfmDialect::verifyRegionArgAttribute(Operation *op, unsigned region, unsigned arg,
                                                   NamedAttribute attr) {
  return verifyBufferAttr(op, attr, "argument #" + Twine(arg));
}

LogicalResult TfmDialect::verifyRegionResultAttribute(Operation *op, unsigned region,
                                                      unsigned result, NamedAttribute attr) {
  return verifyBufferAttr(op, attr, "result #" + Twine(result));
}
