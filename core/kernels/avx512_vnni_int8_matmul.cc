// The AVX-512 Int8Matmul with VNNI: vpdpbusd adds the four u8 x s8 products of
// each 32-bit lane into it exactly, for weights of all 8 bits. It replaces
// oneDNN's int8 matmul at the VNNI levels: quantization, product and
// dequantization run in one parallel region instead of three
// (docs/benchmarks.md, issue 12).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/kernels/int8_matmul.h"
#include "core/kernels/internal/isa_kernels.h"

// AVX-512 + VNNI code generation from here on: these includes must follow
// every other one, so include sorting must not move them.
// clang-format off
#include "core/kernels/avx512_target.h"
#pragma GCC target("avx512vnni")
#include "core/kernels/internal/avx512_int8_tile.h"
// clang-format on

namespace heed::kernels::avx512 {
namespace {

struct VnniDot {
  static __m512i Add(__m512i acc, __m512i codes, __m512i weights) {
    return _mm512_dpbusd_epi32(acc, codes, weights);
  }
};

}  // namespace

void Int8MatmulVnni(const Int8MatmulProblem& p) { int8_tile::Int8MatmulWith<VnniDot>(p); }

}  // namespace heed::kernels::avx512
