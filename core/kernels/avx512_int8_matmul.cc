// The AVX-512 Int8Matmul without VNNI: vpmaddubsw multiplies 64 u8 codes by
// 64 s8 weights and adds adjacent pairs in 16 bits (exact with 7-bit weights),
// vpmaddwd against ones adds those pairs into 32 bits, vpaddd accumulates.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/kernels/int8_matmul.h"
#include "core/kernels/internal/isa_kernels.h"

// AVX-512 code generation from here on: this include must follow every other
// one, so include sorting must not move it.
// clang-format off
#include "core/kernels/avx512_target.h"
#include "core/kernels/internal/avx512_int8_tile.h"
// clang-format on

namespace heed::kernels::avx512 {
namespace {

struct PairSumsDot {
  static __m512i Add(__m512i acc, __m512i codes, __m512i weights) {
    const __m512i pairs = _mm512_maddubs_epi16(codes, weights);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(pairs, _mm512_set1_epi16(1)));
  }
};

}  // namespace

void Int8Matmul(const Int8MatmulProblem& p) { int8_tile::Int8MatmulWith<PairSumsDot>(p); }

}  // namespace heed::kernels::avx512
