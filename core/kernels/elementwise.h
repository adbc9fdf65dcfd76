// Row-wise and element-wise kernels around the matrix multiplications: layer
// norm, softmax, GELU, residual add, embedding gather. f32 in and out; each has
// a portable and an AVX-512 version, chosen by core/cpu.
#ifndef HEED_CORE_KERNELS_ELEMENTWISE_H_
#define HEED_CORE_KERNELS_ELEMENTWISE_H_

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "core/tensor/dtype.h"

namespace heed::kernels {

// y[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta for each of `rows` rows
// of `cols` elements (biased variance, as torch.nn.functional.layer_norm).
// In place is allowed (y == x).
void LayerNorm(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
               const float* beta, float eps);

// Softmax over each row, in place.
void Softmax(float* x, int64_t rows, int64_t cols);

// x - log Σ exp(x), in place, over one row of n values (next-token scores:
// 8k-58k per step and sequence, so the fast paths matter for decoding).
void LogSoftmax(float* x, int64_t n);

// The index of the first largest of n >= 1 values (std::max_element's
// answer): greedy decoding's pick over the vocabulary, once per sequence and
// step.
int64_t ArgMax(const float* x, int64_t n);

// GELU, in place: the exact form x/2 (1 + erf(x/√2)) or the tanh approximation
// x/2 (1 + tanh(√(2/π)(x + 0.044715x³))).
enum class GeluForm { kErf, kTanh };
void Gelu(float* x, int64_t n, GeluForm form);

// y += x.
void AddInPlace(float* y, const float* x, int64_t n);

// y = x rounded to bf16 (FloatToBf16: to nearest even, NaN stays NaN).
void ConvertToBf16(const float* x, bf16* y, int64_t n);

// int8 activations of one row: returns scale = max |x| / 127 (1 for a row of
// zeros) and writes q[i] = round(x[i] / scale) + 128 (to nearest even), so
// that a row's codes never depend on other rows.
float QuantizeRowToU8(const float* x, int64_t n, uint8_t* q);

// One row of an int8 product back to f32: y[i] = row_scale channel_scales[i]
// (sums[i] - compensation[i]) + bias[i] (bias may be null). `compensation`
// removes the +128 shift of the u8 codes (128 Σ_k w[i][k]).
void DequantizeRow(const int32_t* sums, const int32_t* compensation,
                   const float* channel_scales, const float* bias, float row_scale,
                   float* y, int64_t n);

// out[i] = table[ids[i]] * scale for each id (rows of `cols` floats); an id
// outside [0, vocab) is an error naming it.
absl::Status EmbeddingGather(const float* table, int64_t vocab, int64_t cols,
                             std::span<const int32_t> ids, float scale, float* out);

}  // namespace heed::kernels

#endif  // HEED_CORE_KERNELS_ELEMENTWISE_H_
