// AVX2 + FMA versions of the element-wise and row-wise kernels; tails use
// masked loads and stores, never a scalar loop.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/kernels/internal/isa_kernels.h"
#include "core/kernels/kernel_table.h"

// AVX2 code generation from here on: this include must follow every other
// one, so include sorting must not move it.
// clang-format off
#include "core/kernels/avx2_target.h"
#include "core/kernels/avx2_math.h"
// clang-format on

namespace heed::kernels::avx2 {

void LayerNorm(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
               const float* beta, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    __m256 vsum = _mm256_setzero_ps();
    for (int64_t c = 0; c < cols; c += 8) {
      vsum = _mm256_add_ps(vsum, MaskedLoad(xr + c, FirstLanes(cols - c)));
    }
    const float mean = ReduceAdd(vsum) / cols;
    const __m256 vmean = _mm256_set1_ps(mean);
    // Two passes: the variance of centred values, which does not cancel.
    __m256 vvar = _mm256_setzero_ps();
    for (int64_t c = 0; c < cols; c += 8) {
      const __m256i live = FirstLanes(cols - c);
      const __m256 d = _mm256_and_ps(_mm256_sub_ps(MaskedLoad(xr + c, live), vmean),
                                     _mm256_castsi256_ps(live));
      vvar = _mm256_fmadd_ps(d, d, vvar);
    }
    const float inv_std = 1.0f / std::sqrt(ReduceAdd(vvar) / cols + eps);
    const __m256 vinv = _mm256_set1_ps(inv_std);
    for (int64_t c = 0; c < cols; c += 8) {
      const __m256i live = FirstLanes(cols - c);
      const __m256 d =
          _mm256_mul_ps(_mm256_sub_ps(MaskedLoad(xr + c, live), vmean), vinv);
      const __m256 out =
          _mm256_fmadd_ps(d, MaskedLoad(gamma + c, live), MaskedLoad(beta + c, live));
      _mm256_maskstore_ps(yr + c, live, out);
    }
  }
}

void Softmax(float* x, int64_t rows, int64_t cols) {
  const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = x + r * cols;
    __m256 vmax = neg_inf;
    for (int64_t c = 0; c < cols; c += 8) {
      const __m256i live = FirstLanes(cols - c);
      vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(neg_inf, MaskedLoad(xr + c, live),
                                                  _mm256_castsi256_ps(live)));
    }
    const __m256 mv = _mm256_set1_ps(ReduceMax(vmax));
    __m256 vsum = _mm256_setzero_ps();
    for (int64_t c = 0; c < cols; c += 8) {
      const __m256i live = FirstLanes(cols - c);
      const __m256 e = _mm256_and_ps(Exp(_mm256_sub_ps(MaskedLoad(xr + c, live), mv)),
                                     _mm256_castsi256_ps(live));
      _mm256_maskstore_ps(xr + c, live, e);
      vsum = _mm256_add_ps(vsum, e);
    }
    const __m256 inv = _mm256_set1_ps(1.0f / ReduceAdd(vsum));
    for (int64_t c = 0; c < cols; c += 8) {
      const __m256i live = FirstLanes(cols - c);
      _mm256_maskstore_ps(xr + c, live, _mm256_mul_ps(MaskedLoad(xr + c, live), inv));
    }
  }
}

void LogSoftmax(float* x, int64_t n) {
  const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
  __m256 vmax = neg_inf;
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i live = FirstLanes(n - i);
    vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(neg_inf, MaskedLoad(x + i, live),
                                                _mm256_castsi256_ps(live)));
  }
  const float max_value = ReduceMax(vmax);
  const __m256 mv = _mm256_set1_ps(max_value);
  // Four partial sums: the additions' latency, not their count, bounds this.
  __m256 sums[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                    _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int c = 0; c < 4; ++c) {
      sums[c] =
          _mm256_add_ps(sums[c], Exp(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8 * c), mv)));
    }
  }
  for (; i < n; i += 8) {
    const __m256i live = FirstLanes(n - i);
    sums[0] = _mm256_add_ps(sums[0],
                            _mm256_and_ps(Exp(_mm256_sub_ps(MaskedLoad(x + i, live), mv)),
                                          _mm256_castsi256_ps(live)));
  }
  const float sum = ReduceAdd(
      _mm256_add_ps(_mm256_add_ps(sums[0], sums[1]), _mm256_add_ps(sums[2], sums[3])));
  const __m256 shift = _mm256_set1_ps(max_value + std::log(sum));
  for (i = 0; i < n; i += 8) {
    const __m256i live = FirstLanes(n - i);
    _mm256_maskstore_ps(x + i, live, _mm256_sub_ps(MaskedLoad(x + i, live), shift));
  }
}

void Gelu(float* x, int64_t n, GeluForm form) {
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i live = FirstLanes(n - i);
    const __m256 v = MaskedLoad(x + i, live);
    __m256 t;
    if (form == GeluForm::kErf) {
      t = Erf(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
    } else {
      const __m256 cube = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
      const __m256 inner =
          _mm256_mul_ps(_mm256_set1_ps(0.79788456080286536f),
                        _mm256_fmadd_ps(cube, _mm256_set1_ps(0.044715f), v));
      t = Tanh(inner);
    }
    _mm256_maskstore_ps(x + i, live,
                        _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, t)));
  }
}

void Add(float* y, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i,
                     _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
  }
  if (i < n) {
    const __m256i live = FirstLanes(n - i);
    _mm256_maskstore_ps(y + i, live,
                        _mm256_add_ps(MaskedLoad(y + i, live), MaskedLoad(x + i, live)));
  }
}

void ScaledCopy(const float* x, float* y, int64_t n, float scale) {
  const __m256 s = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), s));
  if (i < n) {
    const __m256i live = FirstLanes(n - i);
    _mm256_maskstore_ps(y + i, live, _mm256_mul_ps(MaskedLoad(x + i, live), s));
  }
}

int64_t ArgMax(const float* x, int64_t n) {
  if (n < 8) return std::max_element(x, x + n) - x;
  // Each lane keeps its first largest value and that value's index; a later
  // value must be strictly larger to replace it.
  __m256 best = _mm256_loadu_ps(x);
  __m256i best_index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i index = best_index;
  const __m256i step = _mm256_set1_epi32(8);
  int64_t i = 8;
  for (; i + 8 <= n; i += 8) {
    index = _mm256_add_epi32(index, step);
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 larger = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
    best = _mm256_blendv_ps(best, v, larger);
    best_index = _mm256_castps_si256(_mm256_blendv_ps(
        _mm256_castsi256_ps(best_index), _mm256_castsi256_ps(index), larger));
  }
  float values[8];
  int32_t indices[8];
  _mm256_storeu_ps(values, best);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(indices), best_index);
  // Of the lanes that hold the maximum, the smallest index is the first.
  int64_t arg = indices[0];
  float value = values[0];
  for (int lane = 1; lane < 8; ++lane) {
    if (values[lane] > value || (values[lane] == value && indices[lane] < arg)) {
      value = values[lane];
      arg = indices[lane];
    }
  }
  for (; i < n; ++i) {
    if (x[i] > value) {
      value = x[i];
      arg = i;
    }
  }
  return arg;
}

// vcvtps2dq rounds to nearest even, as the portable version's 1.5 * 2^23
// trick does, so every level writes the same codes.
float QuantizeRowU8(const float* x, int64_t n, uint8_t* q) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 vmax = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
  if (i < n) {
    vmax =
        _mm256_max_ps(vmax, _mm256_andnot_ps(sign, MaskedLoad(x + i, FirstLanes(n - i))));
  }
  const float max_abs = ReduceMax(vmax);
  const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
  const __m256 inv = _mm256_set1_ps(1.0f / scale);
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  const __m256i shift = _mm256_set1_epi32(128);
  for (i = 0; i < n; i += 8) {
    const __m256i live = FirstLanes(n - i);
    const __m256 v =
        _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(MaskedLoad(x + i, live), inv), lo), hi);
    const __m256i codes = _mm256_add_epi32(_mm256_cvtps_epi32(v), shift);
    // 8 int32 in [1, 255] to 8 bytes.
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(codes),
                                          _mm256_extracti128_si256(codes, 1));
    const __m128i bytes = _mm_packus_epi16(words, words);
    if (i + 8 <= n) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(q + i), bytes);
    } else {
      alignas(16) uint8_t last[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(last), bytes);
      std::memcpy(q + i, last, n - i);
    }
  }
  return scale;
}

void DequantizeRow(const int32_t* sums, const int32_t* compensation,
                   const float* channel_scales, const float* bias, float row_scale,
                   float* y, int64_t n) {
  const __m256 rs = _mm256_set1_ps(row_scale);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i live = FirstLanes(n - i);
    const __m256i s = _mm256_maskload_epi32(sums + i, live);
    const __m256i c = _mm256_maskload_epi32(compensation + i, live);
    const __m256 scale = _mm256_mul_ps(rs, MaskedLoad(channel_scales + i, live));
    __m256 v = _mm256_mul_ps(scale, _mm256_cvtepi32_ps(_mm256_sub_epi32(s, c)));
    if (bias != nullptr) v = _mm256_add_ps(v, MaskedLoad(bias + i, live));
    _mm256_maskstore_ps(y + i, live, v);
  }
}

}  // namespace heed::kernels::avx2
