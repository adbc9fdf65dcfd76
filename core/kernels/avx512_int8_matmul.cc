// The AVX-512 Int8Matmul: vpmaddubsw multiplies 64 u8 codes by 64 s8 weights
// and adds adjacent pairs in 16 bits (exact with 7-bit weights), vpmaddwd
// against ones adds those pairs into 32 bits, vpaddd accumulates. A register
// tile is 4 rows x 4 column blocks (64 columns): 16 accumulators, 4 weight
// vectors and a broadcast, so each weight vector loaded serves 4 rows and each
// broadcast 4 blocks.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/kernels/int8_matmul.h"
#include "core/kernels/internal/isa_kernels.h"

// AVX-512 code generation from here on: this include must follow every other
// one, so include sorting must not move it.
// clang-format off
#include "core/kernels/avx512_target.h"
#include <immintrin.h>
// clang-format on

namespace heed::kernels::avx512 {
namespace {

constexpr int kTileRows = 4;
constexpr int kTileBlocks = kInt8TileBlocks;

template <int kRows, int kBlocks>
void Tile(const Int8MatmulProblem& p, int64_t row0, int64_t block0) {
  const int64_t depth = Int8PaddedDepth(p.k);
  const int64_t block_bytes = kInt8BlockColumns * depth;
  const int8_t* w = p.packed_weights + block0 * block_bytes;
  const uint8_t* a = p.a + row0 * depth;
  const __m512i ones = _mm512_set1_epi16(1);
  __m512i acc[kRows][kBlocks];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 4
    for (int b = 0; b < kBlocks; ++b) acc[r][b] = _mm512_setzero_si512();
  }
  for (int64_t i = 0; i < depth; i += kInt8GroupDepth) {
    __m512i weights[kBlocks];
#pragma GCC unroll 4
    for (int b = 0; b < kBlocks; ++b) {
      weights[b] = _mm512_loadu_si512(w + b * block_bytes + i * kInt8BlockColumns);
    }
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      int32_t codes;
      std::memcpy(&codes, a + r * depth + i, sizeof(codes));
      const __m512i broadcast = _mm512_set1_epi32(codes);
#pragma GCC unroll 4
      for (int b = 0; b < kBlocks; ++b) {
        const __m512i pairs = _mm512_maddubs_epi16(broadcast, weights[b]);
        acc[r][b] = _mm512_add_epi32(acc[r][b], _mm512_madd_epi16(pairs, ones));
      }
    }
  }
  const int64_t col0 = block0 * kInt8BlockColumns;
  const int64_t cols = std::min<int64_t>(kBlocks * kInt8BlockColumns, p.n - col0);
  alignas(64) int32_t sums[kBlocks * kInt8BlockColumns];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 4
    for (int b = 0; b < kBlocks; ++b) {
      _mm512_store_si512(sums + b * kInt8BlockColumns, acc[r][b]);
    }
    DequantizeRow(sums, p.compensation + col0, p.channel_scales + col0,
                  p.bias != nullptr ? p.bias + col0 : nullptr, p.row_scales[row0 + r],
                  p.y + (row0 + r) * p.n + col0, cols);
  }
}

using TileFunction = void (*)(const Int8MatmulProblem&, int64_t, int64_t);

template <int kRows>
constexpr TileFunction kTilesOfRows[kTileBlocks] = {&Tile<kRows, 1>, &Tile<kRows, 2>,
                                                    &Tile<kRows, 3>, &Tile<kRows, 4>};

constexpr const TileFunction* kTiles[kTileRows] = {kTilesOfRows<1>, kTilesOfRows<2>,
                                                   kTilesOfRows<3>, kTilesOfRows<4>};

}  // namespace

void Int8Matmul(const Int8MatmulProblem& p) {
  for (int64_t block = p.block_begin; block < p.block_end; block += kTileBlocks) {
    const int64_t blocks = std::min<int64_t>(kTileBlocks, p.block_end - block);
    for (int64_t row = 0; row < p.m; row += kTileRows) {
      const int64_t rows = std::min<int64_t>(kTileRows, p.m - row);
      kTiles[rows - 1][blocks - 1](p, row, block);
    }
  }
}

}  // namespace heed::kernels::avx512
