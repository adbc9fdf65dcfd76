#include "bench/machine_limits.h"

#include <immintrin.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "core/cpu/cpu_features.h"

// GCC 12's _mm512_reduce_add_ps starts from _mm512_undefined_ps(), which the
// uninitialized-use warnings report; the warning is about the header.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace heed::bench {
namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// 32 zmm registers hold 16 accumulators; 16 ymm registers hold only 12 next
// to the two constants (16 would spill and measure the stores, not the FMAs).
constexpr int kAvx512Chains = 16;
constexpr int kAvx2Chains = 12;

__attribute__((target("avx512f,fma"))) double FmaLoopAvx512(long iterations) {
  __m512 acc[kAvx512Chains];
  for (int i = 0; i < kAvx512Chains; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kAvx512Chains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kAvx512Chains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) double FmaLoopAvx2(long iterations) {
  __m256 acc[kAvx2Chains];
  for (int i = 0; i < kAvx2Chains; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kAvx2Chains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  float out[8];
  __m256 sum = acc[0];
  for (int i = 1; i < kAvx2Chains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  _mm256_storeu_ps(out, sum);
  return out[0];
}

__attribute__((target("avx512f"))) float SumAvx512(const float* data, size_t n) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  for (size_t i = 0; i + 64 <= n; i += 64) {
    for (int j = 0; j < 4; ++j) {
      acc[j] = _mm512_add_ps(acc[j], _mm512_loadu_ps(data + i + 16 * j));
    }
  }
  return _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

float SumPortable(const float* data, size_t n) {
  float acc[8] = {};
  for (size_t i = 0; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += data[i + j];
  }
  float sum = 0;
  for (float a : acc) sum += a;
  return sum;
}

}  // namespace

double MeasureReadBandwidthGbs() {
  const size_t floats = size_t{64} << 20;  // 256 MB
  std::vector<float> data(floats, 1.0f);
  const bool avx512 = cpu::ActiveIsa() >= cpu::Isa::kAvx512;
  double best = 0;
  volatile float sink = 0;
  for (int rep = 0; rep < 4; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    sink = sink +
           (avx512 ? SumAvx512(data.data(), floats) : SumPortable(data.data(), floats));
    best = std::max(best, floats * sizeof(float) / Seconds(start) / 1e9);
  }
  return best;
}

double MeasureFmaPeakGflops() {
  const bool avx512 = cpu::ActiveIsa() >= cpu::Isa::kAvx512;
  const int lanes = avx512 ? 16 : 8;
  const long iterations = 20'000'000;
  double best = 0;
  volatile double sink = 0;
  for (int rep = 0; rep < 3; ++rep) {  // best of three: the machine is shared
    const auto start = std::chrono::steady_clock::now();
    sink = sink + (avx512 ? FmaLoopAvx512(iterations) : FmaLoopAvx2(iterations));
    const double flops = 2.0 * (avx512 ? kAvx512Chains : kAvx2Chains) * lanes * iterations;
    best = std::max(best, flops / Seconds(start) / 1e9);
  }
  return best;
}

double MeasureCopyBandwidthGbs() {
  const size_t bytes = size_t{256} << 20;
  std::vector<char> src(bytes, 1), dst(bytes, 0);
  double best = 0;
  for (int rep = 0; rep < 4; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    std::memcpy(dst.data(), src.data(), bytes);
    best = std::max(best, 2.0 * bytes / Seconds(start) / 1e9);
    src[rep] = dst[bytes - 1 - rep];  // keep the copies observable
  }
  return best;
}

}  // namespace heed::bench
