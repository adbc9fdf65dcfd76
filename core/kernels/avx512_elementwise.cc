// AVX-512 versions of the element-wise and row-wise kernels; tails use masked
// loads and stores, never a scalar loop.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/kernels/internal/isa_kernels.h"
#include "core/kernels/kernel_table.h"

// AVX-512 code generation from here on: this include must follow every other
// one, so include sorting must not move it.
// clang-format off
#include "core/kernels/avx512_target.h"
#include "core/kernels/avx512_math.h"
// clang-format on

namespace heed::kernels::avx512 {

void LayerNorm(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
               const float* beta, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    __m512 vsum = _mm512_setzero_ps();
    for (int64_t c = 0; c < cols; c += 16) {
      vsum = _mm512_add_ps(vsum, _mm512_maskz_loadu_ps(FirstLanes(cols - c), xr + c));
    }
    const float mean = _mm512_reduce_add_ps(vsum) / cols;
    const __m512 vmean = _mm512_set1_ps(mean);
    // Two passes: the variance of centred values, which does not cancel.
    __m512 vvar = _mm512_setzero_ps();
    for (int64_t c = 0; c < cols; c += 16) {
      const __mmask16 live = FirstLanes(cols - c);
      const __m512 d =
          _mm512_maskz_sub_ps(live, _mm512_maskz_loadu_ps(live, xr + c), vmean);
      vvar = _mm512_fmadd_ps(d, d, vvar);
    }
    const float inv_std = 1.0f / std::sqrt(_mm512_reduce_add_ps(vvar) / cols + eps);
    const __m512 vinv = _mm512_set1_ps(inv_std);
    for (int64_t c = 0; c < cols; c += 16) {
      const __mmask16 live = FirstLanes(cols - c);
      const __m512 d =
          _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, xr + c), vmean), vinv);
      const __m512 out = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(live, gamma + c),
                                         _mm512_maskz_loadu_ps(live, beta + c));
      _mm512_mask_storeu_ps(yr + c, live, out);
    }
  }
}

void Softmax(float* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = x + r * cols;
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    for (int64_t c = 0; c < cols; c += 16) {
      vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY),
                                                      FirstLanes(cols - c), xr + c));
    }
    const __m512 mv = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512 vsum = _mm512_setzero_ps();
    for (int64_t c = 0; c < cols; c += 16) {
      const __mmask16 live = FirstLanes(cols - c);
      const __m512 e = _mm512_maskz_mov_ps(
          live, Exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, xr + c), mv)));
      _mm512_mask_storeu_ps(xr + c, live, e);
      vsum = _mm512_add_ps(vsum, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
    for (int64_t c = 0; c < cols; c += 16) {
      const __mmask16 live = FirstLanes(cols - c);
      _mm512_mask_storeu_ps(xr + c, live,
                            _mm512_mul_ps(_mm512_maskz_loadu_ps(live, xr + c), inv));
    }
  }
}

void LogSoftmax(float* x, int64_t n) {
  const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
  __m512 vmax = neg_inf;
  for (int64_t i = 0; i < n; i += 16) {
    vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(neg_inf, FirstLanes(n - i), x + i));
  }
  const float max_value = _mm512_reduce_max_ps(vmax);
  const __m512 mv = _mm512_set1_ps(max_value);
  // Four partial sums: the additions' latency, not their count, bounds this.
  __m512 sums[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                    _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int c = 0; c < 4; ++c) {
      sums[c] =
          _mm512_add_ps(sums[c], Exp(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16 * c), mv)));
    }
  }
  for (; i < n; i += 16) {
    const __mmask16 live = FirstLanes(n - i);
    sums[0] = _mm512_add_ps(
        sums[0], _mm512_maskz_mov_ps(
                     live, Exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, x + i), mv))));
  }
  const float sum = _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(sums[0], sums[1]), _mm512_add_ps(sums[2], sums[3])));
  const __m512 shift = _mm512_set1_ps(max_value + std::log(sum));
  for (i = 0; i < n; i += 16) {
    const __mmask16 live = FirstLanes(n - i);
    _mm512_mask_storeu_ps(x + i, live,
                          _mm512_sub_ps(_mm512_maskz_loadu_ps(live, x + i), shift));
  }
}

void Gelu(float* x, int64_t n, GeluForm form) {
  const __m512 half = _mm512_set1_ps(0.5f);
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 live = FirstLanes(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(live, x + i);
    __m512 t;
    if (form == GeluForm::kErf) {
      t = Erf(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f)));
    } else {
      const __m512 cube = _mm512_mul_ps(_mm512_mul_ps(v, v), v);
      const __m512 inner =
          _mm512_mul_ps(_mm512_set1_ps(0.79788456080286536f),
                        _mm512_fmadd_ps(cube, _mm512_set1_ps(0.044715f), v));
      t = Tanh(inner);
    }
    _mm512_mask_storeu_ps(x + i, live,
                          _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, t)));
  }
}

void Add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 live = FirstLanes(n - i);
    _mm512_mask_storeu_ps(y + i, live,
                          _mm512_add_ps(_mm512_maskz_loadu_ps(live, y + i),
                                        _mm512_maskz_loadu_ps(live, x + i)));
  }
}

void ScaledCopy(const float* x, float* y, int64_t n, float scale) {
  const __m512 s = _mm512_set1_ps(scale);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 live = FirstLanes(n - i);
    _mm512_mask_storeu_ps(y + i, live,
                          _mm512_mul_ps(_mm512_maskz_loadu_ps(live, x + i), s));
  }
}

// FloatToBf16's rounding in integer lanes (AVX-512F/BW, so every AVX-512
// level gets it; vcvtneps2bf16 would need AVX512_BF16): bits + 0x7fff + the
// lowest kept bit, NaN made quiet, the upper halves kept.
void ToBf16(const float* x, bf16* y, int64_t n) {
  const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7fff);
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
  const __m512i infinity = _mm512_set1_epi32(0x7f800000),
                quiet = _mm512_set1_epi32(0x400000);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 live = FirstLanes(n - i);
    const __m512i bits = _mm512_castps_si512(_mm512_maskz_loadu_ps(live, x + i));
    const __m512i lowest_kept = _mm512_and_si512(_mm512_srli_epi32(bits, 16), one);
    const __m512i rounded = _mm512_add_epi32(bits, _mm512_add_epi32(bias, lowest_kept));
    const __mmask16 nan =
        _mm512_cmpgt_epi32_mask(_mm512_and_si512(bits, magnitude), infinity);
    const __m512i out = _mm512_srli_epi32(
        _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(bits, quiet)), 16);
    _mm256_mask_storeu_epi16(y + i, live, _mm512_cvtepi32_epi16(out));
  }
}

int64_t ArgMax(const float* x, int64_t n) {
  if (n < 16) return std::max_element(x, x + n) - x;
  // Each lane keeps its first largest value and that value's index; a later
  // value must be strictly larger to replace it.
  __m512 best = _mm512_loadu_ps(x);
  __m512i best_index =
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i index = best_index;
  const __m512i step = _mm512_set1_epi32(16);
  int64_t i = 16;
  for (; i + 16 <= n; i += 16) {
    index = _mm512_add_epi32(index, step);
    const __m512 v = _mm512_loadu_ps(x + i);
    const __mmask16 larger = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
    best = _mm512_mask_mov_ps(best, larger, v);
    best_index = _mm512_mask_mov_epi32(best_index, larger, index);
  }
  const float max_value = _mm512_reduce_max_ps(best);
  // Of the lanes that hold the maximum, the smallest index is the first.
  const __mmask16 at_max =
      _mm512_cmp_ps_mask(best, _mm512_set1_ps(max_value), _CMP_EQ_OQ);
  int64_t arg = _mm512_mask_reduce_min_epi32(at_max, best_index);
  float value = max_value;
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
  __m512 vmax = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    vmax = _mm512_max_ps(vmax,
                         _mm512_abs_ps(_mm512_maskz_loadu_ps(FirstLanes(n - i), x + i)));
  }
  const float max_abs = _mm512_reduce_max_ps(vmax);
  const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
  const __m512 inv = _mm512_set1_ps(1.0f / scale);
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  const __m512i shift = _mm512_set1_epi32(128);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 live = FirstLanes(n - i);
    const __m512 v = _mm512_min_ps(
        _mm512_max_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(live, x + i), inv), lo), hi);
    const __m512i codes = _mm512_add_epi32(_mm512_cvtps_epi32(v), shift);
    _mm_mask_storeu_epi8(q + i, live, _mm512_cvtepi32_epi8(codes));
  }
  return scale;
}

void DequantizeRow(const int32_t* sums, const int32_t* compensation,
                   const float* channel_scales, const float* bias, float row_scale,
                   float* y, int64_t n) {
  const __m512 rs = _mm512_set1_ps(row_scale);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 live = FirstLanes(n - i);
    const __m512i s = _mm512_maskz_loadu_epi32(live, sums + i);
    const __m512i c = _mm512_maskz_loadu_epi32(live, compensation + i);
    const __m512 scale =
        _mm512_mul_ps(rs, _mm512_maskz_loadu_ps(live, channel_scales + i));
    __m512 v = _mm512_mul_ps(scale, _mm512_cvtepi32_ps(_mm512_sub_epi32(s, c)));
    if (bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(live, bias + i));
    _mm512_mask_storeu_ps(y + i, live, v);
  }
}

}  // namespace heed::kernels::avx512
