// Weight packing, dispatch, and the portable specification of Int8Matmul.
#include "core/kernels/int8_matmul.h"

#include <algorithm>
#include <cstring>

#include "core/kernels/elementwise.h"
#include "core/kernels/internal/isa_kernels.h"
#include "core/kernels/kernel_table.h"

namespace heed::kernels {

void PackInt8Weights(const int8_t* w, int64_t n, int64_t k, int8_t* packed) {
  const int64_t depth = Int8PaddedDepth(k);
  std::memset(packed, 0, Int8PackedBytes(n, k));
  for (int64_t col = 0; col < n; ++col) {
    int8_t* block = packed + col / kInt8BlockColumns * kInt8BlockColumns * depth;
    const int64_t lane = col % kInt8BlockColumns;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t group = i / kInt8GroupDepth;
      block[(group * kInt8BlockColumns + lane) * kInt8GroupDepth + i % kInt8GroupDepth] =
          w[col * k + i];
    }
  }
}

void Int8Matmul(const Int8MatmulProblem& p) {
  if (p.full_range_weights && !Int8MatmulTakesFullRangeWeights()) {
    // 8-bit weights at a level without VNNI, where vpmaddubsw would saturate:
    // the portable product, exact for any weights, with this level's epilogue.
    generic::Int8Matmul(p);
    return;
  }
  Kernels().int8_matmul(p);
}

bool Int8MatmulIsVectorized() {
  return Kernels().int8_matmul != KernelsFor(cpu::Isa::kGeneric).int8_matmul;
}

// Read off the dispatch table, like Int8MatmulIsVectorized, so that the table
// alone decides which level runs the VNNI kernel.
bool Int8MatmulTakesFullRangeWeights() {
  return Kernels().int8_matmul == &avx512::Int8MatmulVnni;
}

namespace generic {

void Int8Matmul(const Int8MatmulProblem& p) {
  const int64_t depth = Int8PaddedDepth(p.k);
  int32_t sums[kInt8BlockColumns];
  for (int64_t block = p.block_begin; block < p.block_end; ++block) {
    const int8_t* w = p.packed_weights + block * kInt8BlockColumns * depth;
    const int64_t col0 = block * kInt8BlockColumns;
    const int64_t cols = std::min(kInt8BlockColumns, p.n - col0);
    for (int64_t row = 0; row < p.m; ++row) {
      const uint8_t* a = p.a + row * depth;
      for (int64_t lane = 0; lane < cols; ++lane) {
        int32_t sum = 0;
        for (int64_t i = 0; i < depth; ++i) {
          const int64_t group = i / kInt8GroupDepth;
          sum += a[i] * w[(group * kInt8BlockColumns + lane) * kInt8GroupDepth +
                          i % kInt8GroupDepth];
        }
        sums[lane] = sum;
      }
      // The active level's epilogue, as the vectorized versions use theirs.
      DequantizeRow(sums, p.compensation + col0, p.channel_scales + col0,
                    p.bias != nullptr ? p.bias + col0 : nullptr, p.row_scales[row],
                    p.y + row * p.n + col0, cols);
    }
  }
}

}  // namespace generic
}  // namespace heed::kernels
