// The KV cache in both element types: rows land head-major, survive growth
// and cloning, and a bf16 cache holds each value rounded to bf16.
#include "core/models/kv_cache.h"

#include <vector>

#include "gtest/gtest.h"

namespace heed::models {
namespace {

constexpr int kHeads = 3, kHeadDim = 5, kTokens = 40;  // grows 16 → 32 → 64

// Token-major rows [t][heads * head_dim]: k then v, side by side (stride 2x).
std::vector<float> Rows() {
  std::vector<float> rows(kTokens * 2 * kHeads * kHeadDim);
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i] = 0.37f * static_cast<float>(i) - 11.1f;
  return rows;
}

template <typename T>
float Value(T x) {
  if constexpr (std::is_same_v<T, bf16>) {
    return Bf16ToFloat(x);
  } else {
    return x;
  }
}

template <typename T>
void ExpectRows(const KvCache& cache, const std::vector<float>& rows) {
  const kernels::KvSequence<T> view = cache.View<T>();
  ASSERT_EQ(view.length, kTokens);
  const int64_t stride = 2 * kHeads * kHeadDim;
  for (int t = 0; t < kTokens; ++t) {
    for (int h = 0; h < kHeads; ++h) {
      for (int i = 0; i < kHeadDim; ++i) {
        const float k = rows[t * stride + h * kHeadDim + i];
        const float v = rows[t * stride + kHeads * kHeadDim + h * kHeadDim + i];
        const int64_t at = h * view.head_stride + t * kHeadDim + i;
        const bool rounded = std::is_same_v<T, bf16>;
        EXPECT_EQ(Value(view.k[at]), rounded ? Bf16ToFloat(FloatToBf16(k)) : k);
        EXPECT_EQ(Value(view.v[at]), rounded ? Bf16ToFloat(FloatToBf16(v)) : v);
      }
    }
  }
}

template <typename T>
void AppendGrowAndClone(DType dtype) {
  const std::vector<float> rows = Rows();
  const int64_t stride = 2 * kHeads * kHeadDim;
  KvCache cache(kHeads, kHeadDim, dtype);
  EXPECT_EQ(cache.dtype(), dtype);
  cache.Append(rows.data(), rows.data() + kHeads * kHeadDim, 7, stride);  // a prefill
  for (int t = 7; t < kTokens; ++t) {  // then one token per step
    cache.Append(rows.data() + t * stride, rows.data() + t * stride + kHeads * kHeadDim,
                 1, stride);
  }
  ExpectRows<T>(cache, rows);
  ExpectRows<T>(cache.Clone(), rows);
}

TEST(KvCacheTest, Float32RowsSurviveGrowthAndCloning) {
  AppendGrowAndClone<float>(DType::kF32);
}

TEST(KvCacheTest, Bf16RowsAreRoundedAndSurviveGrowthAndCloning) {
  AppendGrowAndClone<bf16>(DType::kBF16);
}

}  // namespace
}  // namespace heed::models
