// Scaled dot-product attention on CPUs, fused in the flash-attention manner:
// keys are visited in tiles with an online softmax, so no score matrix is ever
// materialized. Batches are packed without padding (variable lengths through
// offsets), masks are causal or none, and a single-query path serves decoding
// over a KV cache. The instruction set is picked by core/cpu (HEED_ISA).
//
// out = softmax(scale * Q Kᵀ + mask) V, per sequence and head, accumulated in f32.
#ifndef HEED_CORE_KERNELS_ATTENTION_H_
#define HEED_CORE_KERNELS_ATTENTION_H_

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "core/tensor/dtype.h"

namespace heed::kernels {

// A packed batch of sequences in token-major layout, as linear layers produce
// it: row t holds all heads of token t, head h at columns [h*head_dim, (h+1)*head_dim).
// Sequence b owns query rows [q_offsets[b], q_offsets[b+1]) and key/value rows
// [k_offsets[b], k_offsets[b+1]). Row strides are in elements, so Q, K and V may
// be column slices of one fused QKV matrix.
template <typename T>  // float or bf16
struct AttentionArgs {
  const T* q = nullptr;
  int64_t q_row_stride = 0;
  const T* k = nullptr;
  int64_t k_row_stride = 0;
  const T* v = nullptr;
  int64_t v_row_stride = 0;
  float* out = nullptr;  // same layout as q, always f32
  int64_t out_row_stride = 0;
  std::span<const int32_t> q_offsets;  // batch + 1 entries, non-decreasing
  std::span<const int32_t> k_offsets;  // batch + 1 entries, non-decreasing
  int num_heads = 0;
  int head_dim = 0;
  float scale = 1.0f;
  // Causal: query i of a sequence with lq queries and lk keys sees keys
  // j <= i + (lk - lq), i.e. the queries are the last lq positions.
  bool causal = false;
  // Optional: the attention probabilities, for explainability. Layout: for each
  // sequence in order, [num_heads][lq][lk] floats (see AttentionProbsSize).
  float* probs = nullptr;
};

// Number of floats `probs` must hold for these offsets.
int64_t AttentionProbsSize(std::span<const int32_t> q_offsets,
                           std::span<const int32_t> k_offsets, int num_heads);

absl::Status Attention(const AttentionArgs<float>& args);
absl::Status Attention(const AttentionArgs<bf16>& args);

// One sequence's keys and values in head-major layout, as a KV cache keeps
// them: head h's row t is at k + h * head_stride + t * head_dim.
template <typename T>
struct KvSequence {
  const T* k = nullptr;
  const T* v = nullptr;
  int64_t head_stride = 0;  // elements between heads (>= length * head_dim)
  int32_t length = 0;       // valid rows per head
};

// Decoding: one query per sequence (row b of q, token-major as above) attends
// to all `length` keys of kv[b]. Serves self-attention over a growing cache and
// cross-attention over encoder keys/values.
template <typename T>
struct DecodeAttentionArgs {
  const T* q = nullptr;
  int64_t q_row_stride = 0;
  float* out = nullptr;
  int64_t out_row_stride = 0;
  std::span<const KvSequence<T>> kv;  // one per sequence
  int num_heads = 0;
  int head_dim = 0;
  float scale = 1.0f;
  // Optional: [batch][num_heads][length_b] probabilities, sequences in order.
  float* probs = nullptr;
};

absl::Status DecodeAttention(const DecodeAttentionArgs<float>& args);
absl::Status DecodeAttention(const DecodeAttentionArgs<bf16>& args);

}  // namespace heed::kernels

#endif  // HEED_CORE_KERNELS_ATTENTION_H_
