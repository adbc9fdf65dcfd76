#include "core/kernels/attention.h"

#include <omp.h>

#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/kernels/internal/head_problem.h"
#include "core/kernels/kernel_table.h"

namespace heed::kernels {
namespace {

void RunHead(const KernelTable& table, const HeadProblem<float>& p) {
  table.attention_head_f32(p);
}
void RunHead(const KernelTable& table, const HeadProblem<bf16>& p) {
  table.attention_head_bf16(p);
}

absl::Status ValidateHeads(int num_heads, int head_dim) {
  if (num_heads <= 0 || head_dim <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention needs positive num_heads and head_dim, got ", num_heads,
                     " and ", head_dim));
  }
  if (head_dim % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention head_dim must be even, got ", head_dim));
  }
  return absl::OkStatus();
}

absl::Status ValidateOffsets(std::span<const int32_t> q_offsets,
                             std::span<const int32_t> k_offsets) {
  if (q_offsets.size() != k_offsets.size() || q_offsets.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention needs batch + 1 query and key offsets, got ",
                     q_offsets.size(), " and ", k_offsets.size()));
  }
  for (size_t b = 0; b + 1 < q_offsets.size(); ++b) {
    if (q_offsets[b + 1] < q_offsets[b] || k_offsets[b + 1] < k_offsets[b]) {
      return absl::InvalidArgumentError(
          absl::StrCat("attention offsets decrease at sequence ", b));
    }
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status AttentionImpl(const AttentionArgs<T>& a) {
  if (absl::Status s = ValidateHeads(a.num_heads, a.head_dim); !s.ok()) return s;
  if (absl::Status s = ValidateOffsets(a.q_offsets, a.k_offsets); !s.ok()) return s;
  const int batch = static_cast<int>(a.q_offsets.size()) - 1;
  // Offsets of each sequence's probabilities.
  std::vector<int64_t> probs_offset(batch + 1, 0);
  for (int b = 0; b < batch; ++b) {
    probs_offset[b + 1] = probs_offset[b] + static_cast<int64_t>(a.num_heads) *
                                                (a.q_offsets[b + 1] - a.q_offsets[b]) *
                                                (a.k_offsets[b + 1] - a.k_offsets[b]);
  }
  const KernelTable& table = Kernels();
  const int items = batch * a.num_heads;
#pragma omp parallel for schedule(dynamic, 1)
  for (int item = 0; item < items; ++item) {
    const int b = item / a.num_heads;
    const int h = item % a.num_heads;
    const int lq = a.q_offsets[b + 1] - a.q_offsets[b];
    const int lk = a.k_offsets[b + 1] - a.k_offsets[b];
    if (lq == 0) continue;
    const int64_t col = static_cast<int64_t>(h) * a.head_dim;
    HeadProblem<T> p{
        .q = a.q + a.q_offsets[b] * a.q_row_stride + col,
        .q_stride = a.q_row_stride,
        .k = a.k + a.k_offsets[b] * a.k_row_stride + col,
        .k_stride = a.k_row_stride,
        .v = a.v + a.k_offsets[b] * a.v_row_stride + col,
        .v_stride = a.v_row_stride,
        .out = a.out + a.q_offsets[b] * a.out_row_stride + col,
        .out_stride = a.out_row_stride,
        .lq = lq,
        .lk = lk,
        .head_dim = a.head_dim,
        .scale = a.scale,
        .causal_offset = a.causal ? lk - lq : std::numeric_limits<int>::max() / 2,
        .probs = a.probs != nullptr
                     ? a.probs + probs_offset[b] + static_cast<int64_t>(h) * lq * lk
                     : nullptr,
    };
    RunHead(table, p);
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status DecodeAttentionImpl(const DecodeAttentionArgs<T>& a) {
  if (absl::Status s = ValidateHeads(a.num_heads, a.head_dim); !s.ok()) return s;
  const int batch = static_cast<int>(a.kv.size());
  std::vector<int64_t> probs_offset(batch + 1, 0);
  for (int b = 0; b < batch; ++b) {
    if (a.kv[b].length < 0 ||
        (a.kv[b].length > 0 &&
         a.kv[b].head_stride < int64_t{a.kv[b].length} * a.head_dim)) {
      return absl::InvalidArgumentError(
          absl::StrCat("decode attention: sequence ", b, " has length ", a.kv[b].length,
                       " but head stride ", a.kv[b].head_stride));
    }
    probs_offset[b + 1] = probs_offset[b] + int64_t{a.num_heads} * a.kv[b].length;
  }
  const KernelTable& table = Kernels();
  const int items = batch * a.num_heads;
#pragma omp parallel for schedule(dynamic, 4)
  for (int item = 0; item < items; ++item) {
    const int b = item / a.num_heads;
    const int h = item % a.num_heads;
    const KvSequence<T>& kv = a.kv[b];
    const int64_t col = static_cast<int64_t>(h) * a.head_dim;
    HeadProblem<T> p{
        .q = a.q + b * a.q_row_stride + col,
        .q_stride = a.q_row_stride,
        .k = kv.k + h * kv.head_stride,
        .k_stride = a.head_dim,
        .v = kv.v + h * kv.head_stride,
        .v_stride = a.head_dim,
        .out = a.out + b * a.out_row_stride + col,
        .out_stride = a.out_row_stride,
        .lq = 1,
        .lk = kv.length,
        .head_dim = a.head_dim,
        .scale = a.scale,
        .causal_offset = std::numeric_limits<int>::max() / 2,
        .probs = a.probs != nullptr ? a.probs + probs_offset[b] + int64_t{h} * kv.length
                                    : nullptr,
    };
    RunHead(table, p);
  }
  return absl::OkStatus();
}

}  // namespace

int64_t AttentionProbsSize(std::span<const int32_t> q_offsets,
                           std::span<const int32_t> k_offsets, int num_heads) {
  int64_t total = 0;
  for (size_t b = 0; b + 1 < q_offsets.size() && b + 1 < k_offsets.size(); ++b) {
    total += int64_t{num_heads} * (q_offsets[b + 1] - q_offsets[b]) *
             (k_offsets[b + 1] - k_offsets[b]);
  }
  return total;
}

absl::Status Attention(const AttentionArgs<float>& args) { return AttentionImpl(args); }
absl::Status Attention(const AttentionArgs<bf16>& args) { return AttentionImpl(args); }
absl::Status DecodeAttention(const DecodeAttentionArgs<float>& args) {
  return DecodeAttentionImpl(args);
}
absl::Status DecodeAttention(const DecodeAttentionArgs<bf16>& args) {
  return DecodeAttentionImpl(args);
}

}  // namespace heed::kernels
