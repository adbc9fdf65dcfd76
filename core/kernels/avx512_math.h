// Vector math for the AVX-512 kernels: exp, erf, tanh and reductions on
// __m512. Include only from translation units that enable AVX-512 with
// `#pragma GCC target` after their other includes (see avx512_target.h).
#ifndef HEED_CORE_KERNELS_AVX512_MATH_H_
#define HEED_CORE_KERNELS_AVX512_MATH_H_

#include <immintrin.h>

namespace heed::kernels::avx512 {

// e^x with about 2 ulp error for x in [-87, 88]; tends to 0 below (e^-inf = 0)
// and saturates to +inf above. x = n ln2 + r with |r| <= ln2/2, e^r by its
// degree-6 Taylor polynomial, and 2^n applied exactly by vscalefps.
static inline __m512 Exp(__m512 x) {
  x = _mm512_min_ps(x, _mm512_set1_ps(88.72f));
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145752f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860677e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// 2^x with about 2 ulp error for x in [-150, 128]. n = round(x), 2^(x-n) by
// its degree-6 Taylor polynomial on [-1/2, 1/2], 2^n by vscalefps.
static inline __m512 Exp2InRange(__m512 x) {
  const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_sub_ps(x, n);
  __m512 p = _mm512_set1_ps(1.5403530e-4f);                  // ln2^6 / 6!
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3333558e-3f));  // ln2^5 / 5!
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(9.6181291e-3f));  // ln2^4 / 4!
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.5504109e-2f));  // ln2^3 / 3!
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2.4022651e-1f));  // ln2^2 / 2!
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(6.9314718e-1f));  // ln2
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// 2^x; 0 below -150 (2^-inf = 0), +inf above 128.
static inline __m512 Exp2(__m512 x) {
  return Exp2InRange(
      _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(128.0f)), _mm512_set1_ps(-150.0f)));
}

// 2^x for x <= 0, as softmax needs after subtracting the maximum: one clamp
// fewer than Exp2.
static inline __m512 Exp2NonPositive(__m512 x) {
  return Exp2InRange(_mm512_max_ps(x, _mm512_set1_ps(-150.0f)));
}

// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7), odd symmetry.
static inline __m512 Erf(__m512 x) {
  const __m512 sign = _mm512_and_ps(x, _mm512_set1_ps(-0.0f));
  const __m512 a = _mm512_abs_ps(x);
  const __m512 t =
      _mm512_div_ps(_mm512_set1_ps(1.0f),
                    _mm512_fmadd_ps(a, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
  __m512 p = _mm512_set1_ps(1.061405429f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
  p = _mm512_mul_ps(p, t);
  const __m512 e = Exp(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), a));
  const __m512 y = _mm512_fnmadd_ps(p, e, _mm512_set1_ps(1.0f));
  return _mm512_or_ps(y, sign);
}

// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); absolute error about 1e-7.
static inline __m512 Tanh(__m512 x) {
  const __m512 sign = _mm512_and_ps(x, _mm512_set1_ps(-0.0f));
  const __m512 e = Exp(_mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(2.0f)));
  const __m512 y = _mm512_sub_ps(
      _mm512_set1_ps(1.0f),
      _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
  return _mm512_or_ps(y, sign);
}

// Mask of the first n lanes (n in [0, 16]).
static inline __mmask16 FirstLanes(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff)
                 : static_cast<__mmask16>((1u << (n < 0 ? 0 : n)) - 1);
}

// bf16 → f32 for 16 values: the bf16 bits are the f32's upper half.
static inline __m512 LoadBf16AsF32(const void* p) {
  const __m256i h = _mm256_loadu_si256(static_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

}  // namespace heed::kernels::avx512

#endif  // HEED_CORE_KERNELS_AVX512_MATH_H_
