// The portable kernels: plain C++ for any x86-64 CPU, and the specification of
// what every fast path must compute. Readability over speed.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/kernels/internal/head_problem.h"
#include "core/kernels/internal/isa_kernels.h"
#include "core/kernels/kernel_table.h"
#include "core/tensor/dtype.h"

namespace heed::kernels::generic {
namespace {

inline float ToFloat(float x) { return x; }
inline float ToFloat(bf16 x) { return Bf16ToFloat(x); }

// One row at a time: the scores of one query (a vector of lk floats, not a
// matrix), a max-subtracted softmax, then the weighted sum of values.
template <typename T>
void AttentionHead(const HeadProblem<T>& p) {
  std::vector<float> scores(std::max(p.lk, 1));
  std::vector<float> acc(p.head_dim);
  for (int i = 0; i < p.lq; ++i) {
    const T* q = p.q + i * p.q_stride;
    float* out = p.out + i * p.out_stride;
    float* probs =
        p.probs != nullptr ? p.probs + static_cast<int64_t>(i) * p.lk : nullptr;
    const int visible = std::clamp(i + p.causal_offset + 1, 0, p.lk);
    if (probs != nullptr) std::fill(probs, probs + p.lk, 0.0f);
    if (visible == 0) {  // every key masked: defined as a zero output
      std::fill(out, out + p.head_dim, 0.0f);
      continue;
    }
    float max_score = -INFINITY;
    for (int j = 0; j < visible; ++j) {
      const T* k = p.k + j * p.k_stride;
      float dot = 0.0f;
      for (int d = 0; d < p.head_dim; ++d) dot += ToFloat(q[d]) * ToFloat(k[d]);
      scores[j] = dot * p.scale;
      max_score = std::max(max_score, scores[j]);
    }
    float sum = 0.0f;
    for (int j = 0; j < visible; ++j) {
      scores[j] = std::exp(scores[j] - max_score);
      sum += scores[j];
    }
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (int j = 0; j < visible; ++j) {
      const T* v = p.v + j * p.v_stride;
      for (int d = 0; d < p.head_dim; ++d) acc[d] += scores[j] * ToFloat(v[d]);
    }
    const float inv_sum = 1.0f / sum;
    for (int d = 0; d < p.head_dim; ++d) out[d] = acc[d] * inv_sum;
    if (probs != nullptr) {
      for (int j = 0; j < visible; ++j) probs[j] = scores[j] * inv_sum;
    }
  }
}

void LayerNorm(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
               const float* beta, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float mean = 0.0f;
    for (int64_t c = 0; c < cols; ++c) mean += xr[c];
    mean /= cols;
    float var = 0.0f;
    for (int64_t c = 0; c < cols; ++c) var += (xr[c] - mean) * (xr[c] - mean);
    var /= cols;
    const float inv_std = 1.0f / std::sqrt(var + eps);
    for (int64_t c = 0; c < cols; ++c) {
      yr[c] = (xr[c] - mean) * inv_std * gamma[c] + beta[c];
    }
  }
}

void Softmax(float* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = x + r * cols;
    const float max_value = *std::max_element(xr, xr + cols);
    float sum = 0.0f;
    for (int64_t c = 0; c < cols; ++c) {
      xr[c] = std::exp(xr[c] - max_value);
      sum += xr[c];
    }
    const float inv_sum = 1.0f / sum;
    for (int64_t c = 0; c < cols; ++c) xr[c] *= inv_sum;
  }
}

void LogSoftmax(float* x, int64_t n) {
  const float max_value = *std::max_element(x, x + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - max_value);
  const float log_normalizer = max_value + static_cast<float>(std::log(sum));
  for (int64_t i = 0; i < n; ++i) x[i] -= log_normalizer;
}

int64_t ArgMax(const float* x, int64_t n) { return std::max_element(x, x + n) - x; }

void Gelu(float* x, int64_t n, GeluForm form) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  constexpr float kSqrt2OverPi = 0.79788456080286536f;
  if (form == GeluForm::kErf) {
    for (int64_t i = 0; i < n; ++i)
      x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      x[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
    }
  }
}

void Add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void ScaledCopy(const float* x, float* y, int64_t n, float scale) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
}

void ToBf16(const float* x, bf16* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = FloatToBf16(x[i]);
}

float QuantizeRowU8(const float* x, int64_t n, uint8_t* q) {
  float max_abs = 0.0f;
  for (int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::abs(x[i]));
  const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
  const float inv = 1.0f / scale;
  for (int64_t i = 0; i < n; ++i) {
    // Round to nearest even by adding and subtracting 1.5 * 2^23: nearbyint's
    // result, but plain arithmetic that the compiler vectorizes (nearbyint is
    // a library call per element on baseline x86-64).
    const float v = std::clamp(x[i] * inv, -127.0f, 127.0f);
    const float rounded = (v + 12582912.0f) - 12582912.0f;
    q[i] = static_cast<uint8_t>(static_cast<int32_t>(rounded) + 128);
  }
  return scale;
}

void DequantizeRow(const int32_t* sums, const int32_t* compensation,
                   const float* channel_scales, const float* bias, float row_scale,
                   float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    y[i] = row_scale * channel_scales[i] * static_cast<float>(sums[i] - compensation[i]) +
           (bias != nullptr ? bias[i] : 0.0f);
  }
}

}  // namespace

const KernelTable& Table() {
  static const KernelTable table = {
      .attention_head_f32 = &AttentionHead<float>,
      .attention_head_bf16 = &AttentionHead<bf16>,
      .layer_norm = &LayerNorm,
      .softmax = &Softmax,
      .log_softmax = &LogSoftmax,
      .arg_max = &ArgMax,
      .gelu = &Gelu,
      .add = &Add,
      .scaled_copy = &ScaledCopy,
      .to_bf16 = &ToBf16,
      .quantize_row_u8 = &QuantizeRowU8,
      .dequantize_row = &DequantizeRow,
      .int8_matmul = &generic::Int8Matmul,
  };
  return table;
}

}  // namespace heed::kernels::generic

namespace heed::kernels {
const KernelTable& GenericKernels() { return generic::Table(); }
}  // namespace heed::kernels
