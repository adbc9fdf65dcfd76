// Int8Matmul at every ISA level against exact 32-bit sums followed by the
// level's DequantizeRow: the results must agree bit for bit, over shapes that
// exercise every tile remainder (rows, column blocks, columns, depth), for
// 7-bit weights and for 8-bit ones (full_range_weights).
#include "core/kernels/int8_matmul.h"

#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "core/kernels/elementwise.h"
#include "gtest/gtest.h"
#include "tests/core/kernels/isa_param.h"

namespace heed::kernels {
namespace {

struct Layer {
  int64_t n = 0, k = 0;
  std::vector<int8_t> weights;  // [n][k]
  std::vector<int8_t> packed;
  std::vector<int32_t> compensation;
  std::vector<float> channel_scales, bias;
};

Layer MakeLayer(int64_t n, int64_t k, std::mt19937& rng, int weight = 0,
                int max_weight = 63) {
  Layer layer;
  layer.n = n;
  layer.k = k;
  std::uniform_int_distribution<int> codes(-max_weight, max_weight);
  std::uniform_real_distribution<float> reals(-1.0f, 1.0f);
  layer.weights.resize(n * k);
  for (auto& w : layer.weights)
    w = static_cast<int8_t>(weight != 0 ? weight : codes(rng));
  layer.packed.resize(Int8PackedBytes(n, k), 99);
  PackInt8Weights(layer.weights.data(), n, k, layer.packed.data());
  for (int64_t j = 0; j < n; ++j) {
    layer.compensation.push_back(static_cast<int32_t>(codes(rng)) * 1000);
    layer.channel_scales.push_back(1e-3f * (1.5f + reals(rng)));
    layer.bias.push_back(reals(rng));
  }
  return layer;
}

std::vector<uint8_t> MakeCodes(int64_t m, int64_t k, std::mt19937& rng, int code = -1) {
  const int64_t depth = Int8PaddedDepth(k);
  std::uniform_int_distribution<int> codes(0, 255);
  std::vector<uint8_t> a(m * depth, 0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < k; ++j) a[i * depth + j] = code >= 0 ? code : codes(rng);
  }
  return a;
}

// Exact sums, then the level's own DequantizeRow.
std::vector<float> Reference(const Layer& layer, const std::vector<uint8_t>& a, int64_t m,
                             const std::vector<float>& row_scales, const float* bias) {
  const int64_t depth = Int8PaddedDepth(layer.k);
  std::vector<float> y(m * layer.n);
  std::vector<int32_t> sums(layer.n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < layer.n; ++j) {
      int64_t sum = 0;
      for (int64_t l = 0; l < layer.k; ++l) {
        sum += a[i * depth + l] * layer.weights[j * layer.k + l];
      }
      sums[j] = static_cast<int32_t>(sum);
    }
    DequantizeRow(sums.data(), layer.compensation.data(), layer.channel_scales.data(),
                  bias, row_scales[i], y.data() + i * layer.n, layer.n);
  }
  return y;
}

Int8MatmulProblem Problem(const Layer& layer, const std::vector<uint8_t>& a, int64_t m,
                          const std::vector<float>& row_scales, const float* bias,
                          float* y) {
  Int8MatmulProblem p;
  p.a = a.data();
  p.packed_weights = layer.packed.data();
  p.m = m;
  p.n = layer.n;
  p.k = layer.k;
  p.row_scales = row_scales.data();
  p.compensation = layer.compensation.data();
  p.channel_scales = layer.channel_scales.data();
  p.bias = bias;
  p.y = y;
  p.block_begin = 0;
  p.block_end = Int8Blocks(layer.n);
  return p;
}

using Int8MatmulTest = IsaTest;

// 7-bit weights run the active level's kernel; 8-bit ones (full_range_weights)
// the VNNI kernel, at levels below VNNI too (a layer made at a VNNI level
// keeps its weights when a test lowers the level), or the portable one.
void ExpectExactSums(int max_weight) {
  std::mt19937 rng(7);
  for (int64_t m : {1, 3, 4, 5, 9, 32}) {
    for (int64_t n : {1, 15, 16, 17, 64, 100, 200}) {
      for (int64_t k : {1, 3, 4, 5, 64, 130, 512}) {
        const Layer layer = MakeLayer(n, k, rng, 0, max_weight);
        const std::vector<uint8_t> a = MakeCodes(m, k, rng);
        std::vector<float> row_scales(m);
        for (int64_t i = 0; i < m; ++i) row_scales[i] = 0.01f * (i + 1);
        for (const float* bias :
             {layer.bias.data(), static_cast<const float*>(nullptr)}) {
          std::vector<float> y(m * n, 42.0f);
          Int8MatmulProblem p = Problem(layer, a, m, row_scales, bias, y.data());
          p.full_range_weights = max_weight > 63;
          Int8Matmul(p);
          const std::vector<float> want = Reference(layer, a, m, row_scales, bias);
          ASSERT_EQ(std::memcmp(y.data(), want.data(), y.size() * sizeof(float)), 0)
              << "m=" << m << " n=" << n << " k=" << k << " bias=" << (bias != nullptr)
              << " |w| <= " << max_weight;
        }
      }
    }
  }
}

TEST_P(Int8MatmulTest, MatchesExactSumsBitForBit) { ExpectExactSums(63); }

TEST_P(Int8MatmulTest, FullRangeWeightsMatchExactSumsAtEveryLevel) {
  ExpectExactSums(127);
}

// The largest codes against the largest weights of both signs: with 7 bits
// every pair sum is at the edge of 16 bits (255 * 63 * 2 = 32130), with 8 bits
// past it (255 * 127 * 2), and no sum may saturate.
TEST_P(Int8MatmulTest, ExtremeCodesDoNotSaturate) {
  std::mt19937 rng(11);
  for (int weight : {63, -63, 127, -127}) {
    const int64_t m = 5, n = 33, k = 2048;
    Layer layer = MakeLayer(n, k, rng, weight);
    std::fill(layer.compensation.begin(), layer.compensation.end(), 0);
    std::fill(layer.channel_scales.begin(), layer.channel_scales.end(), 1.0f);
    const std::vector<uint8_t> a = MakeCodes(m, k, rng, 255);
    const std::vector<float> row_scales(m, 1.0f);
    std::vector<float> y(m * n);
    Int8MatmulProblem p = Problem(layer, a, m, row_scales, nullptr, y.data());
    p.full_range_weights = std::abs(weight) > 63;
    Int8Matmul(p);
    for (float v : y) ASSERT_EQ(v, 255.0f * weight * k) << "weight " << weight;
  }
}

// A call computes the columns of its blocks only: threads split a product by
// block ranges.
TEST_P(Int8MatmulTest, WritesOnlyItsBlocks) {
  std::mt19937 rng(3);
  const int64_t m = 6, n = 150, k = 96;
  const Layer layer = MakeLayer(n, k, rng);
  const std::vector<uint8_t> a = MakeCodes(m, k, rng);
  const std::vector<float> row_scales(m, 0.5f);
  const std::vector<float> want = Reference(layer, a, m, row_scales, layer.bias.data());
  for (int64_t begin : {0, 1, 5}) {
    for (int64_t end : {begin + 1, begin + 4, Int8Blocks(n)}) {
      std::vector<float> y(m * n, 42.0f);
      Int8MatmulProblem p = Problem(layer, a, m, row_scales, layer.bias.data(), y.data());
      p.block_begin = begin;
      p.block_end = end;
      Int8Matmul(p);
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          const bool inside =
              j >= begin * kInt8BlockColumns && j < end * kInt8BlockColumns;
          ASSERT_EQ(y[i * n + j], inside ? want[i * n + j] : 42.0f)
              << "blocks [" << begin << ", " << end << ") i=" << i << " j=" << j;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, Int8MatmulTest, ::testing::ValuesIn(cpu::SupportedIsas()),
                         IsaParamName);

}  // namespace
}  // namespace heed::kernels
