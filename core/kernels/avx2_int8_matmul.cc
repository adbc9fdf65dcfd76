// The AVX2 Int8Matmul: as the AVX-512 one (vpmaddubsw, vpmaddwd against ones,
// vpaddd), on 16 ymm registers: a register tile is 4 rows x 1 column block, a
// block's 16 columns being two ymm halves, so 8 accumulators, 2 weight vectors,
// a broadcast, the ones and the products in flight.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/kernels/int8_matmul.h"
#include "core/kernels/internal/isa_kernels.h"

// AVX2 code generation from here on: this include must follow every other
// one, so include sorting must not move it.
// clang-format off
#include "core/kernels/avx2_target.h"
#include <immintrin.h>
// clang-format on

namespace heed::kernels::avx2 {
namespace {

constexpr int kTileRows = 4;
constexpr int kHalves = 2;  // ymm registers per column block

// `next`: the weights of the range's next block, prefetched into L2 while this
// one computes (null: this is the last block).
template <int kRows>
void Tile(const Int8MatmulProblem& p, int64_t row0, int64_t block, const int8_t* next) {
  const int64_t depth = Int8PaddedDepth(p.k);
  const int8_t* w = p.packed_weights + block * kInt8BlockColumns * depth;
  const uint8_t* a = p.a + row0 * depth;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[kRows][kHalves];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
    acc[r][0] = _mm256_setzero_si256();
    acc[r][1] = _mm256_setzero_si256();
  }
  for (int64_t i = 0; i < depth; i += kInt8GroupDepth) {
    const int8_t* group = w + i * kInt8BlockColumns;
    const __m256i weights[kHalves] = {
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + 32))};
    if (next != nullptr) _mm_prefetch(next + i * kInt8BlockColumns, _MM_HINT_T1);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      int32_t codes;
      std::memcpy(&codes, a + r * depth + i, sizeof(codes));
      const __m256i broadcast = _mm256_set1_epi32(codes);
#pragma GCC unroll 2
      for (int h = 0; h < kHalves; ++h) {
        const __m256i pairs = _mm256_maddubs_epi16(broadcast, weights[h]);
        acc[r][h] = _mm256_add_epi32(acc[r][h], _mm256_madd_epi16(pairs, ones));
      }
    }
  }
  const int64_t col0 = block * kInt8BlockColumns;
  const int64_t cols = std::min<int64_t>(kInt8BlockColumns, p.n - col0);
  alignas(32) int32_t sums[kInt8BlockColumns];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums), acc[r][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums + 8), acc[r][1]);
    DequantizeRow(sums, p.compensation + col0, p.channel_scales + col0,
                  p.bias != nullptr ? p.bias + col0 : nullptr, p.row_scales[row0 + r],
                  p.y + (row0 + r) * p.n + col0, cols);
  }
}

using TileFunction = void (*)(const Int8MatmulProblem&, int64_t, int64_t, const int8_t*);
constexpr TileFunction kTiles[kTileRows] = {&Tile<1>, &Tile<2>, &Tile<3>, &Tile<4>};

}  // namespace

void Int8Matmul(const Int8MatmulProblem& p) {
  const int64_t block_bytes = kInt8BlockColumns * Int8PaddedDepth(p.k);
  for (int64_t block = p.block_begin; block < p.block_end; ++block) {
    // As in the AVX-512 kernels, the next block's weights are on their way
    // to L2 while this one computes: 8-16 % faster at 8-32 rows on Zen 5.
    // Not for a single row, which measured 11 % slower with it.
    const int8_t* next = p.m > 1 && block + 1 < p.block_end
                             ? p.packed_weights + (block + 1) * block_bytes
                             : nullptr;
    for (int64_t row = 0; row < p.m; row += kTileRows) {
      kTiles[std::min<int64_t>(kTileRows, p.m - row) - 1](p, row, block, next);
    }
  }
}

}  // namespace heed::kernels::avx2
