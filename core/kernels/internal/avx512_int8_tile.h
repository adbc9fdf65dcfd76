// The AVX-512 Int8Matmul loop, shared by the kernel without VNNI
// (avx512_int8_matmul.cc) and the one with it (avx512_vnni_int8_matmul.cc);
// they differ in one step, `Dot`, which adds the four u8 x s8 products of each
// 32-bit lane into an accumulator:
//   struct Dot { static __m512i Add(__m512i acc, __m512i codes, __m512i w); };
// A register tile is 4 rows x 4 column blocks (64 columns): 16 accumulators,
// 4 weight vectors and a broadcast, so each weight vector loaded serves 4 rows
// and each broadcast 4 blocks.
//
// Include it only after avx512_target.h (and any further target pragma), from
// inside no namespace, and include the standard headers it uses before the
// target pragma, so that their templates stay baseline x86-64. Everything here
// is a template of `Dot`, and each translation unit defines its own Dot in an
// unnamed namespace, so the two translation units, compiled for different
// instruction sets, never share a function that one of them compiled with
// instructions the other may not run.
#ifndef HEED_CORE_KERNELS_INTERNAL_AVX512_INT8_TILE_H_
#define HEED_CORE_KERNELS_INTERNAL_AVX512_INT8_TILE_H_

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/kernels/int8_matmul.h"
#include "core/kernels/internal/isa_kernels.h"

namespace heed::kernels::avx512::int8_tile {

inline constexpr int kTileRows = 4;
inline constexpr int kTileBlocks = kInt8TileBlocks;

// `next`: the weights of the block range's next tile, prefetched into L2 while
// this one computes (null: this is the last tile). A short next tile gets
// lines past its end prefetched too, harmlessly: prefetches never fault.
template <class Dot, int kRows, int kBlocks>
void Tile(const Int8MatmulProblem& p, int64_t row0, int64_t block0, const int8_t* next) {
  const int64_t depth = Int8PaddedDepth(p.k);
  const int64_t block_bytes = kInt8BlockColumns * depth;
  const int8_t* w = p.packed_weights + block0 * block_bytes;
  const uint8_t* a = p.a + row0 * depth;
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
    if (next != nullptr) {
#pragma GCC unroll 4
      for (int b = 0; b < kTileBlocks; ++b) {
        _mm_prefetch(next + b * block_bytes + i * kInt8BlockColumns, _MM_HINT_T1);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      int32_t codes;
      std::memcpy(&codes, a + r * depth + i, sizeof(codes));
      const __m512i broadcast = _mm512_set1_epi32(codes);
#pragma GCC unroll 4
      for (int b = 0; b < kBlocks; ++b)
        acc[r][b] = Dot::Add(acc[r][b], broadcast, weights[b]);
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

// The product over the problem's block range, tile by tile: every row for one
// 64-column tile of weights before the next, so the tile stays in cache.
template <class Dot>
void Int8MatmulWith(const Int8MatmulProblem& p) {
  using TileFunction =
      void (*)(const Int8MatmulProblem&, int64_t, int64_t, const int8_t*);
  static constexpr TileFunction kTiles[kTileRows][kTileBlocks] = {
      {&Tile<Dot, 1, 1>, &Tile<Dot, 1, 2>, &Tile<Dot, 1, 3>, &Tile<Dot, 1, 4>},
      {&Tile<Dot, 2, 1>, &Tile<Dot, 2, 2>, &Tile<Dot, 2, 3>, &Tile<Dot, 2, 4>},
      {&Tile<Dot, 3, 1>, &Tile<Dot, 3, 2>, &Tile<Dot, 3, 3>, &Tile<Dot, 3, 4>},
      {&Tile<Dot, 4, 1>, &Tile<Dot, 4, 2>, &Tile<Dot, 4, 3>, &Tile<Dot, 4, 4>}};
  const int64_t block_bytes = kInt8BlockColumns * Int8PaddedDepth(p.k);
  for (int64_t block = p.block_begin; block < p.block_end; block += kTileBlocks) {
    const int64_t blocks = std::min<int64_t>(kTileBlocks, p.block_end - block);
    // Every row tile also fetches the next tile's weights into L2, so that
    // the next tile's first row tile does not wait on memory: 14-25 % faster
    // at 8-16 rows on Zen 5 (docs/benchmarks.md); later row tiles find the
    // lines there already, which costs a load slot only.
    const int8_t* next = block + kTileBlocks < p.block_end
                             ? p.packed_weights + (block + kTileBlocks) * block_bytes
                             : nullptr;
    for (int64_t row = 0; row < p.m; row += kTileRows) {
      const int64_t rows = std::min<int64_t>(kTileRows, p.m - row);
      kTiles[rows - 1][blocks - 1](p, row, block, next);
    }
  }
}

}  // namespace heed::kernels::avx512::int8_tile

#endif  // HEED_CORE_KERNELS_INTERNAL_AVX512_INT8_TILE_H_
