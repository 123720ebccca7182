/*===- tfm_runtime.h - The C ABI between generated code and the runtime -===*\
|*                                                                          *|
|* Generated code calls the _mlir_ciface_tfm_rt_* functions (see            *|
|* convert-onednn-to-func): MLIR's C interface (`llvm.emit_c_interface`) of *|
|* func.func declarations whose buffers are type-erased records, so that    *|
|* one function serves buffers of every element type, rank and layout.      *|
|* Every buffer is passed as a pointer to the descriptor of a               *|
|* memref<20xi64> holding a tfm_buffer.                                     *|
|*                                                                          *|
|* No C++ exception or oneDNN error crosses this boundary: the functions    *|
|* return nothing and record the first failure, after which every later     *|
|* call does nothing; the driver reads it with tfm_rt_last_error().         *|
|*                                                                          *|
\*===----------------------------------------------------------------------===*/

#ifndef TFM_RUNTIME_TFM_RUNTIME_H
#define TFM_RUNTIME_TFM_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every code that crosses this boundary is one of these enums; the compiler
   emits them from the onednn dialect's ODS enums, and
   lib/Dialect/OneDNN/IR/OneDNNDialect.cpp checks (static_assert) that each
   ODS case has the value of the enumerator named after it here, so a skew
   between compiler and runtime is a build error. Calls pass them as int32_t. */

/* Element type of a buffer or weight. */
typedef enum tfm_dtype {
  TFM_DTYPE_F32 = 0,
  TFM_DTYPE_F16 = 1,
  TFM_DTYPE_BF16 = 2,
  TFM_DTYPE_I32 = 3,
  TFM_DTYPE_I64 = 4,
  TFM_DTYPE_U8 = 5,
  TFM_DTYPE_I8 = 6,
} tfm_dtype;

/* Eltwise post-op of a matmul (onednn::Activation). */
typedef enum tfm_activation {
  TFM_ACTIVATION_NONE = 0,
  TFM_ACTIVATION_GELU_TANH = 1,
  TFM_ACTIVATION_GELU_ERF = 2,
  TFM_ACTIVATION_RELU = 3,
  TFM_ACTIVATION_SILU = 4, /* x sigmoid(x): oneDNN's eltwise_swish, alpha 1 */
} tfm_activation;

/* Algorithm of tfm_rt_eltwise (onednn::EltwiseKind): y = f(x; alpha, beta)
   with oneDNN's definitions (pow: alpha * x^beta, linear: alpha * x + beta). */
typedef enum tfm_eltwise_kind {
  TFM_ELTWISE_TANH = 0,
  TFM_ELTWISE_EXP = 1,
  TFM_ELTWISE_RELU = 2,
  TFM_ELTWISE_GELU_TANH = 3,
  TFM_ELTWISE_GELU_ERF = 4,
  TFM_ELTWISE_SQRT = 5,
  TFM_ELTWISE_POW = 6,
  TFM_ELTWISE_LINEAR = 7,
  TFM_ELTWISE_ERF = 8,
  TFM_ELTWISE_SIN = 9,
  TFM_ELTWISE_COS = 10,
} tfm_eltwise_kind;

/* Algorithm of tfm_rt_binary (onednn::BinaryKind). */
typedef enum tfm_binary_kind {
  TFM_BINARY_ADD = 0,
  TFM_BINARY_SUB = 1,
  TFM_BINARY_MUL = 2,
  TFM_BINARY_DIV = 3,
  TFM_BINARY_MAX = 4,
  TFM_BINARY_MIN = 5,
} tfm_binary_kind;

/* Algorithm of tfm_rt_reduction (onednn::ReductionKind). */
typedef enum tfm_reduction_kind {
  TFM_REDUCTION_MEAN = 0,
  TFM_REDUCTION_MAX = 1,
  TFM_REDUCTION_SUM = 2,
} tfm_reduction_kind;

/* Positional encoding added by tfm_rt_embedding (onednn::PositionKind). */
typedef enum tfm_position_kind {
  TFM_POSITION_NONE = 0,
  TFM_POSITION_LEARNED = 1,
  TFM_POSITION_SINUSOIDAL = 2,
} tfm_position_kind;

/* What a buffer of the entry function is to the executables' driver (the
   tfm dialect's `tfm.role` argument/result attribute, set by the frontend;
   TFM_ROLE_TENSOR for every buffer of a model without roles). */
typedef enum tfm_buffer_role {
  TFM_ROLE_TENSOR = 0,         /* tensor mode: an .npy input or output */
  TFM_ROLE_TOKENS = 1,         /* i64 [t]: the token ids of this pass */
  TFM_ROLE_POSITIONS = 2,      /* i64 [t]: their positions */
  TFM_ROLE_LOGIT_ROWS = 3,     /* i64 [r]: the rows whose logits are computed */
  TFM_ROLE_LOGITS = 4,         /* f32 [r, vocab] */
  TFM_ROLE_PAST_KEY = 5,       /* f32 [past, width] of one layer (tfm_buffer_info.layer) */
  TFM_ROLE_PAST_VALUE = 6,
  TFM_ROLE_PRESENT_KEY = 7,    /* f32 [past + t, width] */
  TFM_ROLE_PRESENT_VALUE = 8,
  TFM_ROLE_TOKEN_TYPES = 9,    /* i64 [t]: the token type (segment) ids of an encoder's tokens */
  TFM_ROLE_HIDDEN = 10,        /* f32 [t, width]: an encoder's last hidden state */
  TFM_ROLE_SEQUENCE_IDS = 11,  /* i64 [t]: an encoder's packed sequences (a run of equal ids each) */
} tfm_buffer_role;

/* Which size of a call a dimension equals (TFM_DIM_STATIC: its static size). */
typedef enum tfm_dim_size {
  TFM_DIM_STATIC = 0,
  TFM_DIM_NEW_TOKENS = 1,      /* t: tokens in this pass */
  TFM_DIM_LOGIT_ROWS = 2,      /* r: rows of logits computed */
  TFM_DIM_PAST = 3,            /* positions cached before this pass */
  TFM_DIM_PAST_AND_NEW = 4,    /* past + t */
} tfm_dim_size;

/* One buffer of the entry function, in argument order (inputs, then the
   outputs). */
typedef struct tfm_buffer_info {
  const char *name;            /* `tfm.name` (for messages), or "" */
  int32_t output;              /* 1: the model writes it */
  int32_t role;                /* a tfm_buffer_role */
  int32_t layer;               /* past/present buffers: the layer; else -1 */
  int32_t dtype;               /* a tfm_dtype */
  int32_t rank;
  const int64_t *dims;         /* [rank]: static sizes, -1 where dynamic */
  const int32_t *dim_sizes;    /* [rank]: a tfm_dim_size for each dimension */
} tfm_buffer_info;

/* What the compiler tells the executables' driver about the model
   (convert-onednn-to-func emits it from the entry function). */
#define TFM_MODEL_INFO_VERSION 1
typedef struct tfm_model_info {
  int32_t version;             /* TFM_MODEL_INFO_VERSION */
  int32_t num_buffers;
  const tfm_buffer_info *buffers;
  int64_t context_length;      /* positions the model has (`tfm.context_length`); 0: no limit */
} tfm_model_info;

/* The tokenizer tfmc embedded in an executable (tfm_settings.tokenizer). */
typedef enum tfm_tokenizer_kind {
  TFM_TOKENIZER_NONE = 0,        /* none: ids in and out */
  TFM_TOKENIZER_GPT2_FILES = 1,  /* vocab.json + merges.txt: tfm_vocab_encoder, tfm_vocab_merges */
  TFM_TOKENIZER_HF_IMAGE = 2     /* tokenizer.json as tfm.tokenizer.hf's image: tfm_tokenizer */
} tfm_tokenizer_kind;

/* How an encoder executable turns hidden states into a sentence embedding
   (sentence-transformers' Pooling module, read by tfmc from the model
   directory's modules.json and 1_Pooling/config.json). */
typedef enum tfm_pooling {
  TFM_POOLING_DEFAULT = 0,       /* no sentence-transformers files: CLS (the first token), said so */
  TFM_POOLING_CLS = 1,           /* pooling_mode_cls_token */
  TFM_POOLING_MEAN = 2,          /* pooling_mode_mean_tokens: mean over the non-padding tokens */
  TFM_POOLING_MAX = 3,           /* pooling_mode_max_tokens */
} tfm_pooling;

/* Settings tfmc chose for the executable (not IR: tfmc emits them next to
   the model's object code). */
typedef struct tfm_settings {
  const char *weights;         /* a tfm_rt_set_weights spec, or "" */
  const char *dtype;           /* matmul precision: "f32", "bf16", "int8", "int4" */
  int32_t tokenizer;           /* a tfm_tokenizer_kind */
  int64_t bos_token_id;        /* the id an empty prompt starts from (generation_config.json,
                                  else config.json); -1: the tokenizer's BOS */
  int32_t num_eos_token_ids;   /* 0: generation stops at the tokenizer's EOS */
  const int64_t *eos_token_ids; /* [num_eos_token_ids]: the ids generation stops at */
  int32_t pooling;             /* encoders: a tfm_pooling */
  int32_t normalize;           /* encoders: 1 if modules.json ends with a Normalize module */
  int64_t max_seq_length;      /* encoders: sentence_bert_config.json's max_seq_length (tokens
                                  after truncation, special tokens included); 0: the context */
} tfm_settings;

/* The most dimensions a buffer of a runtime call has. */
#define TFM_MAX_RANK 8

/* One buffer of a runtime call, as generated code fills it: the elements of
   a memref<20xi64> (convert-onednn-to-func builds it from
   memref.extract_aligned_pointer_as_index and
   memref.extract_strided_metadata of the buffer). */
typedef struct tfm_buffer {
  int64_t data;                   /* the memref's aligned pointer; 0: an absent optional buffer */
  int64_t offset;                 /* of element [0, ..., 0], in elements */
  int64_t dtype;                  /* a tfm_dtype */
  int64_t rank;                   /* at most TFM_MAX_RANK */
  int64_t sizes[TFM_MAX_RANK];    /* [rank] */
  int64_t strides[TFM_MAX_RANK];  /* [rank], in elements */
} tfm_buffer;

/* MLIR's C interface of a 1-D memref (StridedMemRefType<T, 1> in
   mlir/ExecutionEngine/CRunnerUtils.h): of a buffer record (memref<20xi64>,
   whose elements are a tfm_buffer) and of bytes (memref<?xi8>: a weight's
   name, NUL-terminated, or a weight's data). */
typedef struct tfm_record_memref {
  int64_t *allocated, *aligned;
  int64_t offset, size, stride;
} tfm_record_memref;
typedef struct tfm_bytes_memref {
  char *allocated, *aligned;
  int64_t offset, size, stride;
} tfm_bytes_memref;

/* One buffer argument. */
#define TFM_BUF(name) const tfm_record_memref *name

/* The descriptor generated code passes for `record` (for callers written by
   hand: tests, benchmarks). */
static inline tfm_record_memref tfm_record_ref(tfm_buffer *record) {
  tfm_record_memref ref = {&record->data, &record->data, 0,
                           (int64_t)(sizeof(tfm_buffer) / sizeof(int64_t)), 1};
  return ref;
}

/* dst = activation(a x b + bias) * multiplier + residual (onednn.matmul);
   activation: a tfm_activation; bias, multiplier, residual may be absent. */
void _mlir_ciface_tfm_rt_matmul(TFM_BUF(a), TFM_BUF(b), TFM_BUF(bias), TFM_BUF(multiplier),
                                TFM_BUF(residual), TFM_BUF(dst), int32_t activation,
                                int32_t transpose_b);
/* Layer normalization over the last axis; rms != 0: RMS normalization
   (src / sqrt(mean(src^2) + epsilon) * scale + shift, no centring). */
void _mlir_ciface_tfm_rt_layer_norm(TFM_BUF(src), TFM_BUF(scale), TFM_BUF(shift),
                                    TFM_BUF(dst), double epsilon, int32_t rms);
/* kind: a tfm_eltwise_kind. */
void _mlir_ciface_tfm_rt_eltwise(TFM_BUF(src), TFM_BUF(dst), int32_t kind, double alpha,
                                 double beta);
/* kind: a tfm_binary_kind. */
void _mlir_ciface_tfm_rt_binary(TFM_BUF(lhs), TFM_BUF(rhs), TFM_BUF(dst), int32_t kind);
void _mlir_ciface_tfm_rt_softmax(TFM_BUF(src), TFM_BUF(dst), int64_t axis);
void _mlir_ciface_tfm_rt_reorder(TFM_BUF(src), TFM_BUF(dst));
/* src, dst [..., T, S]: dst = src where key j <= query i + S - T (and
   j > i + S - T - window when window > 0), else fill. */
void _mlir_ciface_tfm_rt_causal_fill(TFM_BUF(src), TFM_BUF(dst), double fill, int64_t window);
/* src, dst [..., T, T], sequence_ids [T] (integers; packed sequences, each a
   run of consecutive rows with one id): dst = src where rows i and j lie in
   one run, else fill. */
void _mlir_ciface_tfm_rt_sequence_fill(TFM_BUF(src), TFM_BUF(sequence_ids), TFM_BUF(dst),
                                       double fill);
/* kind: a tfm_reduction_kind. */
void _mlir_ciface_tfm_rt_reduction(TFM_BUF(src), TFM_BUF(dst), int32_t kind);

/* Sets *result to the bytes of weight `name` ([d0, d1, d2, d3][:rank],
   element type `dtype`), from the weights the driver configured with
   tfm_rt_set_weights. */
void _mlir_ciface_tfm_rt_weight(tfm_bytes_memref *result, const tfm_bytes_memref *name,
                                int64_t rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                                int32_t dtype);
/* Sets *result to the integers (part 0, i8 [N, Kp] or [N, Kp/2]) or the
   scales (part 1, f32 [N, Kp/group]) of weight `name` (source [d0, d1] of
   `dtype`, [K, N] when `transposed`, else [N, K]) quantized to `bits` (8 or
   4) in groups of `group` (lib/Support/Quant.cppm): the tensors
   `name.int<bits>_g<group>[.kn]` and `....scales` of the weights file, or,
   where the file lacks them (random weights, IR compiled by hand), the
   source quantized once at first use. */
void _mlir_ciface_tfm_rt_quantized_weight(tfm_bytes_memref *result,
                                          const tfm_bytes_memref *name, int64_t d0, int64_t d1,
                                          int32_t dtype, int32_t transposed, int32_t bits,
                                          int64_t group, int32_t part);
/* dst = activation(a x dequantize(q, scales) + bias) * multiplier + residual
   (onednn.quantized_matmul): a [..., M, K] f32, q/scales as above. */
void _mlir_ciface_tfm_rt_quantized_matmul(TFM_BUF(a), TFM_BUF(q), TFM_BUF(scales),
                                          TFM_BUF(bias), TFM_BUF(multiplier),
                                          TFM_BUF(residual), TFM_BUF(dst), int32_t activation,
                                          int32_t bits, int64_t group);
/* position: a tfm_position_kind. A quantized table (i8, with table_scales)
   has bits 8 or 4 and its group; otherwise bits and group are 0 and
   table_scales is absent. */
void _mlir_ciface_tfm_rt_embedding(TFM_BUF(tokens), TFM_BUF(table), TFM_BUF(table_scales),
                                   TFM_BUF(position_table), TFM_BUF(positions), TFM_BUF(dst),
                                   int32_t position, int32_t bits, int64_t group);
/* q [T, H*Dh], k and v [T, KVH*Dh] (H = num_heads, KVH = num_kv_heads, a
   divisor of H); past/present [P, KVH*Dh] / [P+T, KVH*Dh]; inv_freq (f32
   [r/2], optional) turns on rotate-half RoPE of the first r dims of each
   head; window > 0 keeps only the `window` most recent keys of a causal
   query (0: all). */
void _mlir_ciface_tfm_rt_sdpa(TFM_BUF(q), TFM_BUF(k), TFM_BUF(v), TFM_BUF(past_k),
                              TFM_BUF(past_v), TFM_BUF(positions), TFM_BUF(inv_freq),
                              TFM_BUF(sequences), TFM_BUF(dst), TFM_BUF(present_k),
                              TFM_BUF(present_v),
                              int64_t num_heads, int64_t num_kv_heads, double scale,
                              int32_t causal, int64_t window);

/* Where weights come from: "file:PATH" (a safetensors file, memory-mapped)
   or "random:SEED" (deterministic random values). Returns 0 on success. */
int tfm_rt_set_weights(const char *spec);

/* Threads for oneDNN and the runtime's kernels (0: OpenMP's default). */
void tfm_rt_set_threads(int threads);

/* One-time work ahead of the first pass (oneDNN's GEMM code generation,
   OpenMP's threads), so that it counts as loading. */
void tfm_rt_warm_up(void);

/* 1: matmuls by weights in bf16 (weights packed as bf16, f32 accumulation). */
void tfm_rt_set_bf16(int enabled);

/* Whether matmuls by weights run in bf16 now (1), which needs
   tfm_rt_set_bf16(1) and a CPU where oneDNN has a bf16 matmul; else 0. */
int tfm_rt_bf16_active(void);

/* The threads oneDNN and the runtime's kernels use. */
int tfm_rt_threads(void);

/* The instruction set oneDNN dispatches to on this CPU, in words. */
const char *tfm_rt_isa(void);

/* Prints to `stream` (a FILE *) one line per primitive created so far: the
   implementation oneDNN (or the runtime's own kernels) chose. */
void tfm_rt_print_implementations(void *stream);

/* 1: time every runtime call, by kind (matmul, sdpa, ...). */
void tfm_rt_set_profile(int enabled);

/* Prints the profile to `stream` (a FILE *): calls and milliseconds per kind
   and their share of `total` seconds, then the rest as "(elsewhere)";
   then starts over. */
void tfm_rt_profile_print(void *stream, double total);

/* The first error recorded since start (NULL if none). */
const char *tfm_rt_last_error(void);

/* Provided by the generated object (tfm-emit-entry): the model entry and its buffers.
   buffers[i] is the data of the entry function's i-th buffer (inputs, then
   outputs); dims lists the sizes of their dynamic dimensions, in order. */
void tfm_entry(void **buffers, const int64_t *dims);
extern const tfm_model_info tfm_model;
/* Provided by tfmc (absent from objects compiled otherwise). */
extern const tfm_settings tfm_executable_settings __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif /* TFM_RUNTIME_TFM_RUNTIME_H */
