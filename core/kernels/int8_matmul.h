// heed's own int8 matrix product: u8 activation codes times s8 weights,
// summed exactly in 32 bits, on weights packed once at load.
//
// Why it exists: oneDNN 2.6 runs int8 products as a quantization pass, its
// matmul and a dequantization pass, three parallel regions per layer; without
// VNNI its gemm:jit kernels also repack the weights on every call. At
// decoding's 1-32 rows that overhead costs about as much as the arithmetic
// (docs/benchmarks.md, issue 12). Here quantization and the product share one
// parallel region and dequantization is the product's epilogue.
//
// With VNNI (avx512_vnni and up), vpdpbusd sums four u8 x s8 products per
// 32-bit lane exactly, for weights of all 8 bits. Without it, x86 multiplies
// u8 by s8 with vpmaddubsw, which adds each pair of products in 16 bits with
// saturation: 255 * 63 * 2 = 32130 fits, so with 7-bit weights (|w| <= 63)
// every pair sum, and therefore every 32-bit sum, is exact.
#ifndef HEED_CORE_KERNELS_INT8_MATMUL_H_
#define HEED_CORE_KERNELS_INT8_MATMUL_H_

#include <cstdint>

namespace heed::kernels {

// Output columns per packed block (one AVX-512 register of 32-bit sums).
inline constexpr int64_t kInt8BlockColumns = 16;
// Inner-dimension values per packed group: the 4 codes one 32-bit broadcast
// carries.
inline constexpr int64_t kInt8GroupDepth = 4;
// Column blocks of a vectorized kernel's register tile: callers that split a
// product between threads give each a multiple of it.
inline constexpr int64_t kInt8TileBlocks = 4;

// k rounded up to a whole group: the row stride of the activation codes and
// the depth of the packed weights. Codes past k may hold anything: their
// weights are zero.
inline int64_t Int8PaddedDepth(int64_t k) {
  return (k + kInt8GroupDepth - 1) / kInt8GroupDepth * kInt8GroupDepth;
}
inline int64_t Int8Blocks(int64_t n) {
  return (n + kInt8BlockColumns - 1) / kInt8BlockColumns;
}
// Bytes of the packed weights of an n x k layer.
inline int64_t Int8PackedBytes(int64_t n, int64_t k) {
  return Int8Blocks(n) * kInt8BlockColumns * Int8PaddedDepth(k);
}

// Packs w[n][k] (nn.Linear's layout) into Int8PackedBytes(n, k)
// bytes: column blocks of 16, in each block the groups of 4 in order, in each
// group 16 columns x 4 consecutive k. Padding columns and depth are zero.
void PackInt8Weights(const int8_t* w, int64_t n, int64_t k, int8_t* packed);

// y[i][j] = row_scales[i] channel_scales[j] (Σ_k a[i][k] w[j][k]
//           - compensation[j]) + bias[j]   (bias may be null)
// for the rows i < m and the columns of blocks [block_begin, block_end)
// (columns past n are not written). `a` holds m rows of
// Int8PaddedDepth(k) u8 codes, `y` rows of n floats. The epilogue is
// DequantizeRow's, so the result is bit for bit the one of an exact 32-bit
// product followed by DequantizeRow.
struct Int8MatmulProblem {
  const uint8_t* a = nullptr;
  const int8_t* packed_weights = nullptr;
  int64_t m = 0, n = 0, k = 0;
  const float* row_scales = nullptr;
  const int32_t* compensation = nullptr;
  const float* channel_scales = nullptr;
  const float* bias = nullptr;
  float* y = nullptr;
  int64_t block_begin = 0, block_end = 0;
  // Weights use all 8 bits (|w| <= 127), not 7: only VNNI sums those exactly
  // in vectors. Such weights come from a level with VNNI; should the active
  // level have been lowered below it since (tests do), the product runs the
  // portable code, never vpmaddubsw.
  bool full_range_weights = false;
};
void Int8Matmul(const Int8MatmulProblem& p);

// Whether the active ISA level has a vectorized Int8Matmul (AVX2 or AVX-512);
// elsewhere it runs the portable specification, slower than oneDNN.
bool Int8MatmulIsVectorized();
// Whether the active level's Int8Matmul sums weights of all 8 bits exactly in
// vectors (VNNI); without it, layers quantize their weights to 7 bits.
bool Int8MatmulTakesFullRangeWeights();

}  // namespace heed::kernels

#endif  // HEED_CORE_KERNELS_INT8_MATMUL_H_
