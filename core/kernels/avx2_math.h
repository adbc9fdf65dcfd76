// Vector math for the AVX2 kernels: exp, erf, tanh, reductions and tail masks
// on __m256. AVX2 has no mask registers and no vscalefps, so tails load and
// store through lane masks and 2^n is built in the exponent bits. Include only
// from translation units that enable AVX2 after their other includes (see
// avx2_target.h).
#ifndef HEED_CORE_KERNELS_AVX2_MATH_H_
#define HEED_CORE_KERNELS_AVX2_MATH_H_

#include <immintrin.h>

#include <cstdint>

namespace heed::kernels::avx2 {

// Lane mask of the first n lanes (n clamped to [0, 8]), for maskload/maskstore.
static inline __m256i FirstLanes(int64_t n) {
  alignas(32) static const int32_t kOnes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};
  const int64_t live = n < 0 ? 0 : (n > 8 ? 8 : n);
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kOnes + 8 - live));
}

static inline __m256 MaskedLoad(const float* p, __m256i mask) {
  return _mm256_maskload_ps(p, mask);
}

// 2^n for integral n in [-126, 127], by writing the exponent field.
static inline __m256 Pow2(__m256 n) {
  const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
  return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}

// 2^x for x in [-126, 127] with about 2 ulp error: n = round(x), 2^(x-n) by
// its degree-6 Taylor polynomial (as the AVX-512 version), 2^n in the exponent.
static inline __m256 Exp2InRange(__m256 x) {
  const __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_sub_ps(x, n);
  __m256 p = _mm256_set1_ps(1.5403530e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3333558e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(9.6181291e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.5504109e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(2.4022651e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(6.9314718e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  return _mm256_mul_ps(p, Pow2(n));
}

// 2^x for x <= 127 (or -inf): exactly 0 below -126, without Exp2's overflow
// handling, for the online softmax's x <= 0 (fewer instructions on a hot path).
static inline __m256 Exp2NonPositive(__m256 x) {
  const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-126.0f), _CMP_LT_OQ);
  return _mm256_andnot_ps(underflow,
                          Exp2InRange(_mm256_max_ps(x, _mm256_set1_ps(-126.0f))));
}

// 2^x: exactly 0 below -126 (and for -inf), +inf from 128 on.
static inline __m256 Exp2(__m256 x) {
  const __m256 overflow = _mm256_cmp_ps(x, _mm256_set1_ps(128.0f), _CMP_GE_OQ);
  const __m256 y = Exp2NonPositive(_mm256_min_ps(x, _mm256_set1_ps(127.0f)));
  return _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), overflow);
}

// e^x = 2^(x log2 e); about 3 ulp, 0 below about -87, +inf above about 88.7.
static inline __m256 Exp(__m256 x) {
  return Exp2(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)));
}

// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7), odd symmetry.
static inline __m256 Erf(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 t =
      _mm256_div_ps(_mm256_set1_ps(1.0f),
                    _mm256_fmadd_ps(a, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  p = _mm256_mul_ps(p, t);
  const __m256 e = Exp(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), a));
  const __m256 y = _mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f));
  return _mm256_or_ps(y, sign);
}

// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); absolute error about 1e-7.
static inline __m256 Tanh(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 e = Exp(_mm256_mul_ps(a, _mm256_set1_ps(2.0f)));
  const __m256 y = _mm256_sub_ps(
      _mm256_set1_ps(1.0f),
      _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
  return _mm256_or_ps(y, sign);
}

static inline float ReduceAdd(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline float ReduceMax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// bf16 → f32 for 8 values: the bf16 bits are the f32's upper half.
static inline __m256 LoadBf16AsF32(const void* p) {
  const __m128i h = _mm_loadu_si128(static_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

}  // namespace heed::kernels::avx2

#endif  // HEED_CORE_KERNELS_AVX2_MATH_H_
