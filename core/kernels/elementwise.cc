#include "core/kernels/elementwise.h"

#include "absl/strings/str_cat.h"
#include "core/kernels/kernel_table.h"

namespace heed::kernels {

void LayerNorm(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
               const float* beta, float eps) {
  Kernels().layer_norm(x, y, rows, cols, gamma, beta, eps);
}

void Softmax(float* x, int64_t rows, int64_t cols) { Kernels().softmax(x, rows, cols); }

void LogSoftmax(float* x, int64_t n) { Kernels().log_softmax(x, n); }
int64_t ArgMax(const float* x, int64_t n) { return Kernels().arg_max(x, n); }

void Gelu(float* x, int64_t n, GeluForm form) { Kernels().gelu(x, n, form); }

void AddInPlace(float* y, const float* x, int64_t n) { Kernels().add(y, x, n); }

void ConvertToBf16(const float* x, bf16* y, int64_t n) { Kernels().to_bf16(x, y, n); }

float QuantizeRowToU8(const float* x, int64_t n, uint8_t* q) {
  return Kernels().quantize_row_u8(x, n, q);
}

void DequantizeRow(const int32_t* sums, const int32_t* compensation,
                   const float* channel_scales, const float* bias, float row_scale,
                   float* y, int64_t n) {
  Kernels().dequantize_row(sums, compensation, channel_scales, bias, row_scale, y, n);
}

absl::Status EmbeddingGather(const float* table, int64_t vocab, int64_t cols,
                             std::span<const int32_t> ids, float scale, float* out) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      return absl::InvalidArgumentError(absl::StrCat("token id ", ids[i], " at position ",
                                                     i, " is outside the vocabulary of ",
                                                     vocab));
    }
  }
  const KernelTable& kernels = Kernels();
  for (size_t i = 0; i < ids.size(); ++i) {
    kernels.scaled_copy(table + ids[i] * cols, out + i * cols, cols, scale);
  }
  return absl::OkStatus();
}

}  // namespace heed::kernels
