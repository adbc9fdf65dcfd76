#include "bench/machine_limits.h"

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <thread>
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

// vdpbf16ps: 32 bf16 products per zmm instruction, accumulated in f32.
__attribute__((target("avx512f,avx512bf16"))) double Bf16Loop(long iterations) {
  __m512 acc[kAvx512Chains];
  for (int i = 0; i < kAvx512Chains; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80);  // 1.0
  const __m512bh b = (__m512bh)_mm512_set1_epi16(0x3380);  // 6e-8
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kAvx512Chains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kAvx512Chains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

// vpdpbusd: 64 u8 x s8 products per zmm instruction.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) double VnniLoop(long iterations) {
  __m512i acc[kAvx512Chains];
  for (int i = 0; i < kAvx512Chains; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kAvx512Chains; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  }
  __m512i sum = acc[0];
  for (int i = 1; i < kAvx512Chains; ++i) sum = _mm512_add_epi32(sum, acc[i]);
  return _mm512_reduce_add_epi32(sum);
}

// Without VNNI: vpmaddubsw (u8 x s8 pairs to s16), vpmaddwd by ones (to
// s32), vpaddd: 64 products per three zmm instructions. Each chain feeds its
// accumulator back in as the u8 operand, so no product can be hoisted or
// shared between chains.
__attribute__((target("avx512f,avx512bw"))) double MaddubsLoopAvx512(long iterations) {
  __m512i acc[kAvx512Chains];
  for (int i = 0; i < kAvx512Chains; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i b = _mm512_set1_epi8(-2), ones = _mm512_set1_epi16(1);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kAvx512Chains; ++i) {
      const __m512i pairs = _mm512_maddubs_epi16(acc[i], b);
      acc[i] = _mm512_add_epi32(acc[i], _mm512_madd_epi16(pairs, ones));
    }
  }
  __m512i sum = acc[0];
  for (int i = 1; i < kAvx512Chains; ++i) sum = _mm512_add_epi32(sum, acc[i]);
  return _mm512_reduce_add_epi32(sum);
}

__attribute__((target("avx2,fma"))) double MaddubsLoopAvx2(long iterations) {
  __m256i acc[kAvx2Chains];
  for (int i = 0; i < kAvx2Chains; ++i) acc[i] = _mm256_set1_epi32(i);
  const __m256i b = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kAvx2Chains; ++i) {
      const __m256i pairs = _mm256_maddubs_epi16(acc[i], b);
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(pairs, ones));
    }
  }
  int out[8];
  __m256i sum = acc[0];
  for (int i = 1; i < kAvx2Chains; ++i) sum = _mm256_add_epi32(sum, acc[i]);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), sum);
  return out[0];
}

// Runs `work` (which returns the operations it did) on `threads` threads at
// once, best of three rounds; returns operations per second over the slowest
// thread's time, in units of 1e9.
double BestRate(int threads, const std::function<double()>& work) {
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {  // best of three: the machine is shared
    std::vector<double> ops(threads);
    std::vector<std::thread> pool;
    const auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { ops[t] = work(); });
    for (auto& thread : pool) thread.join();
    const double seconds = Seconds(start);
    double total = 0;
    for (double o : ops) total += o;
    best = std::max(best, total / seconds / 1e9);
  }
  return best;
}

}  // namespace

double MeasureReadBandwidthGbs(int threads) {
  // Each thread sums its own buffer: 256 MB in all, far beyond the caches.
  const size_t floats = (size_t{64} << 20) / threads;
  std::vector<std::vector<float>> data(threads, std::vector<float>(floats, 1.0f));
  const bool avx512 = cpu::ActiveIsa() >= cpu::Isa::kAvx512;
  std::atomic<int> next{0};
  std::atomic<float> sink{0};
  double best = 0;
  for (int round = 0; round < 2; ++round) {
    next = 0;
    best = std::max(best, BestRate(threads, [&] {
                      const std::vector<float>& mine = data[next++ % threads];
                      const float sum = avx512 ? SumAvx512(mine.data(), floats)
                                               : SumPortable(mine.data(), floats);
                      sink = sink + sum;
                      return double(floats * sizeof(float));
                    }));
  }
  return best;
}

double MeasureFmaPeakGflops(int threads) {
  const bool avx512 = cpu::ActiveIsa() >= cpu::Isa::kAvx512;
  const int lanes = avx512 ? 16 : 8;
  const long iterations = 20'000'000;
  std::atomic<double> sink{0};
  return BestRate(threads, [&] {
    sink = sink + (avx512 ? FmaLoopAvx512(iterations) : FmaLoopAvx2(iterations));
    return 2.0 * (avx512 ? kAvx512Chains : kAvx2Chains) * lanes * iterations;
  });
}

double MeasureBf16PeakGflops(int threads) {
  if (cpu::ActiveIsa() < cpu::Isa::kAvx512Bf16) return 0;
  const long iterations = 10'000'000;
  std::atomic<double> sink{0};
  return BestRate(threads, [&] {
    sink = sink + Bf16Loop(iterations);
    return 2.0 * 32 * kAvx512Chains * iterations;
  });
}

double MeasureInt8PeakGops(int threads) {
  const cpu::Isa isa = cpu::ActiveIsa();
  if (isa < cpu::Isa::kAvx2) return 0;
  const long iterations = 10'000'000;
  std::atomic<double> sink{0};
  return BestRate(threads, [&] {
    if (isa >= cpu::Isa::kAvx512Vnni) {
      sink = sink + VnniLoop(iterations);
      return 2.0 * 64 * kAvx512Chains * iterations;
    }
    if (isa >= cpu::Isa::kAvx512) {
      sink = sink + MaddubsLoopAvx512(iterations);
      return 2.0 * 64 * kAvx512Chains * iterations;
    }
    sink = sink + MaddubsLoopAvx2(iterations);
    return 2.0 * 32 * kAvx2Chains * iterations;
  });
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
