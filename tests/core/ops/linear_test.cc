// oneDNN linear layers against a double-precision reference, for every compute
// type and activation, at this process's ISA level (ctest runs every level
// the CPU has). Tolerances are relative to the largest |y| of a case:
//   f32 1e-5; bf16 1.5e-2 (inputs and weights rounded to 8-bit mantissas);
//   int8 3e-2 (per-channel weight and per-row activation quantization; 7-bit
//   weights where oneDNN has no VNNI).
#include "core/ops/linear.h"

#include <atomic>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "core/cpu/cpu_features.h"
#include "core/ops/onednn_engine.h"
#include "gtest/gtest.h"

namespace heed::ops {
namespace {

std::vector<float> Random(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

double Activate(double x, Activation activation) {
  switch (activation) {
    case Activation::kRelu:
      return std::max(0.0, x);
    case Activation::kGeluErf:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case Activation::kGeluTanh:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::kSwish:
      return x / (1 + std::exp(-x));
    case Activation::kNone:
      break;
  }
  return x;
}

double Tolerance(ComputeType type) {
  switch (type) {
    case ComputeType::kFloat32:
      return 1e-5;
    case ComputeType::kBFloat16:
      return 1.5e-2;
    case ComputeType::kInt8:
      return 3e-2;
  }
  return 0;
}

// Whether this ISA level runs `type` as itself (bfloat16 needs AVX512_BF16).
bool Supported(ComputeType type) { return ChooseComputeType(type).used == type; }

void CheckLinear(ComputeType type, Activation activation, int64_t m, int64_t k, int64_t n,
                 bool with_bias) {
  SCOPED_TRACE(testing::Message()
               << ComputeTypeName(type) << " m=" << m << " k=" << k << " n=" << n
               << " act=" << static_cast<int>(activation));
  const std::vector<float> w = Random(n * k, 1), b = Random(n, 2), x = Random(m * k, 3);
  auto linear =
      Linear::Create({w.data(), with_bias ? b.data() : nullptr, n, k}, type, activation);
  ASSERT_TRUE(linear.ok()) << linear.status();
  std::vector<float> y(m * n, NAN);
  ASSERT_TRUE((*linear)->Forward(x.data(), m, y.data()).ok());
  std::vector<double> want(m * n);
  double scale = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = with_bias ? b[j] : 0.0;
      for (int64_t l = 0; l < k; ++l) acc += double{x[i * k + l]} * w[j * k + l];
      want[i * n + j] = Activate(acc, activation);
      scale = std::max(scale, std::abs(want[i * n + j]));
    }
  }
  double worst = 0;
  for (int64_t i = 0; i < m * n; ++i) worst = std::max(worst, std::abs(y[i] - want[i]));
  EXPECT_LE(worst, Tolerance(type) * scale);
}

TEST(LinearTest, AllComputeTypesAndActivations) {
  for (ComputeType type :
       {ComputeType::kFloat32, ComputeType::kBFloat16, ComputeType::kInt8}) {
    if (!Supported(type)) continue;
    for (Activation act : {Activation::kNone, Activation::kRelu, Activation::kGeluErf,
                           Activation::kGeluTanh, Activation::kSwish}) {
      CheckLinear(type, act, 5, 64, 48, /*with_bias=*/true);
    }
    for (int64_t m : {1, 3, 32, 77})
      CheckLinear(type, Activation::kNone, m, 512, 200, true);
    CheckLinear(type, Activation::kNone, 7, 33, 17, /*with_bias=*/false);
  }
}

// Full-range operands: every activation row and weight row reaches its
// quantization bounds, so 16-bit pair sums without VNNI would saturate (the
// error was 2-10x the tolerance before weights got 7 bits there).
TEST(LinearTest, InputsTallerThanOneCallRunInChunks) {
  // kMaxRowsPerCall rows and more: every row against the double reference,
  // the rows after a chunk boundary included.
  for (ComputeType type :
       {ComputeType::kFloat32, ComputeType::kBFloat16, ComputeType::kInt8}) {
    if (!Supported(type)) continue;  // bfloat16 below avx512_bf16
    CheckLinear(type, Activation::kGeluErf, Linear::kMaxRowsPerCall + 77, 64, 48, true);
  }
}

TEST(LinearTest, WeightRowsReadBackFromTheConvertedLayout) {
  // A tied embedding is gathered from its output layer's converted weights:
  // every row must come back exactly, whatever blocking oneDNN chose.
  for (auto [n, k] : {std::pair<int64_t, int64_t>{77, 33},
                      {200, 512},
                      {2048, 512},
                      {8000, 256},
                      {5961, 192}}) {
    const std::vector<float> w = Random(n * k, 21);
    auto linear = Linear::Create({w.data(), nullptr, n, k}, ComputeType::kFloat32,
                                 Activation::kNone);
    ASSERT_TRUE(linear.ok());
    ASSERT_TRUE((*linear)->can_gather_weight_rows());
    const std::vector<int32_t> rows = {0, static_cast<int32_t>(n - 1),
                                       static_cast<int32_t>(n / 2),
                                       static_cast<int32_t>(n / 3), 0};
    std::vector<float> out(rows.size() * k);
    ASSERT_TRUE((*linear)->GatherWeightRows(rows, 2.0f, out.data()).ok());
    for (size_t i = 0; i < rows.size(); ++i) {
      for (int64_t j = 0; j < k; ++j) {
        ASSERT_EQ(out[i * k + j], 2.0f * w[rows[i] * k + j])
            << "n=" << n << " k=" << k << " row " << rows[i] << " col " << j;
      }
    }
    const int32_t outside[1] = {static_cast<int32_t>(n)};
    EXPECT_EQ((*linear)->GatherWeightRows(outside, 1.0f, out.data()).code(),
              absl::StatusCode::kInvalidArgument);
  }
  auto int8 = Linear::Create({Random(64 * 64, 1).data(), nullptr, 64, 64},
                             ComputeType::kInt8, Activation::kNone);
  ASSERT_TRUE(int8.ok());
  EXPECT_FALSE((*int8)->can_gather_weight_rows());  // quantized: not the f32 rows
}

TEST(LinearTest, Int8FullRangeOperandsDoNotSaturate) {
  const int64_t m = 4, k = 512, n = 64;
  std::vector<float> w(n * k), x(m * k);
  for (int64_t i = 0; i < n * k; ++i) w[i] = (i % 3 == 0) ? 1.0f : -0.999f;
  for (int64_t i = 0; i < m * k; ++i) x[i] = (i % 2 == 0) ? 1.0f : 0.999f;
  auto linear =
      Linear::Create({w.data(), nullptr, n, k}, ComputeType::kInt8, Activation::kNone);
  ASSERT_TRUE(linear.ok()) << linear.status();
  EXPECT_EQ((*linear)->weight_levels(), Int8WeightLevels());
  std::vector<float> y(m * n);
  ASSERT_TRUE((*linear)->Forward(x.data(), m, y.data()).ok());
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double want = 0;
      for (int64_t l = 0; l < k; ++l) want += double{x[i * k + l]} * w[j * k + l];
      EXPECT_NEAR(y[i * n + j], want, 0.01 * k) << "row " << i << " column " << j;
    }
  }
}

// A row's int8 result is the same alone and in any batch: activations are
// quantized per row and integer sums are exact. (With one scale per call, a
// request's output changed with the traffic it was batched with.)
TEST(LinearTest, Int8RowsDoNotDependOnTheirBatch) {
  const int64_t k = 384, n = 96;
  const std::vector<float> w = Random(n * k, 11), b = Random(n, 12);
  for (Activation act : {Activation::kNone, Activation::kGeluErf, Activation::kSwish}) {
    auto linear = Linear::Create({w.data(), b.data(), n, k}, ComputeType::kInt8, act);
    ASSERT_TRUE(linear.ok());
    std::vector<float> batch = Random(9 * k, 13);
    // One loud row: with a per-call scale it would coarsen every other row.
    for (int64_t l = 0; l < k; ++l) batch[5 * k + l] *= 40.0f;
    std::vector<float> together(9 * n);
    ASSERT_TRUE((*linear)->Forward(batch.data(), 9, together.data()).ok());
    for (int64_t i = 0; i < 9; ++i) {
      std::vector<float> alone(n);
      ASSERT_TRUE((*linear)->Forward(batch.data() + i * k, 1, alone.data()).ok());
      for (int64_t j = 0; j < n; ++j) {
        ASSERT_EQ(alone[j], together[i * n + j]) << "row " << i << " column " << j;
      }
    }
  }
}

// Threads running layers at once get, call after call, what each call gets
// alone. oneDNN's own scratchpad was shared between concurrent calls at the
// AVX-512 levels (brgemm), which corrupted results of models run from two
// threads; each calling thread now brings its own.
TEST(LinearTest, ConcurrentCallsGetTheirOwnResults) {
  struct Shape {
    int64_t k, n;
  };
  const std::vector<Shape> shapes = {{256, 128}, {32, 1200}, {64, 32}, {512, 512}};
  for (ComputeType type :
       {ComputeType::kFloat32, ComputeType::kBFloat16, ComputeType::kInt8}) {
    if (!Supported(type)) continue;
    std::vector<std::unique_ptr<Linear>> layers;
    for (const Shape& shape : shapes) {
      const std::vector<float> w = Random(shape.n * shape.k, shape.n);
      auto linear =
          Linear::Create({w.data(), nullptr, shape.n, shape.k}, type, Activation::kNone);
      ASSERT_TRUE(linear.ok());
      layers.push_back(*std::move(linear));
    }
    // Every (layer, rows) pair alone first.
    const std::vector<int64_t> rows = {1, 3, 9, 40};
    std::vector<std::vector<float>> inputs, alone;
    for (size_t l = 0; l < layers.size(); ++l) {
      for (int64_t m : rows) {
        inputs.push_back(Random(m * shapes[l].k, static_cast<uint32_t>(m + 10 * l)));
        alone.emplace_back(m * shapes[l].n);
        ASSERT_TRUE(
            layers[l]->Forward(inputs.back().data(), m, alone.back().data()).ok());
      }
    }
    std::atomic<int> differing{0};
    auto work = [&](size_t seed) {
      std::vector<float> y;
      for (size_t rep = 0; rep < 400; ++rep) {
        const size_t c = (rep * 7 + seed) % inputs.size();
        const size_t l = c / rows.size();
        const int64_t m = rows[c % rows.size()];
        y.assign(m * shapes[l].n, 0.0f);
        if (!layers[l]->Forward(inputs[c].data(), m, y.data()).ok() || y != alone[c]) {
          ++differing;
        }
      }
    };
    std::thread t1(work, 0), t2(work, 5);
    t1.join();
    t2.join();
    EXPECT_EQ(differing.load(), 0) << ComputeTypeName(type);
  }
}

TEST(LinearTest, RejectsEmptyWeights) {
  EXPECT_EQ(Linear::Create({}, ComputeType::kFloat32, Activation::kNone).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LinearTest, ComputeTypeNames) {
  EXPECT_EQ(*ParseComputeType("bfloat16"), ComputeType::kBFloat16);
  EXPECT_EQ(ParseComputeType("fp8").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LinearTest, UsesOptimizedImplementations) {
  const std::vector<float> w = Random(512 * 512, 5);
  for (ComputeType type :
       {ComputeType::kFloat32, ComputeType::kBFloat16, ComputeType::kInt8}) {
    if (!Supported(type) || cpu::IsaCeiling() < cpu::Isa::kAvx512) continue;
    auto linear = Linear::Create({w.data(), nullptr, 512, 512}, type, Activation::kNone);
    ASSERT_TRUE(linear.ok());
    for (int64_t m : {1, 32}) {
      const std::string impl = (*linear)->ImplementationName(m);
      EXPECT_EQ(impl.find("ref"), std::string::npos)
          << ComputeTypeName(type) << ": " << impl;
    }
  }
}

// From avx2 up int8 layers run heed's own product on weights packed once:
// 7-bit weights at avx2 and avx512, 8-bit ones with VNNI. At generic, oneDNN
// runs them (7-bit weights: oneDNN is capped below VNNI there).
TEST(LinearTest, Int8RunsHeedsProductFromAvx2Up) {
  const std::vector<float> w = Random(64 * 96, 6);
  auto linear =
      Linear::Create({w.data(), nullptr, 64, 96}, ComputeType::kInt8, Activation::kNone);
  ASSERT_TRUE(linear.ok());
  const cpu::Isa level = cpu::ActiveIsa();
  const std::string impl = (*linear)->ImplementationName(8);
  EXPECT_EQ(impl.rfind("heed_int8_matmul:", 0) == 0, level >= cpu::Isa::kAvx2) << impl;
  EXPECT_EQ((*linear)->weight_levels(), level >= cpu::Isa::kAvx512Vnni ? 127 : 63);
}

}  // namespace
}  // namespace heed::ops
