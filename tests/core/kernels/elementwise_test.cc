// Row-wise and element-wise kernels against double-precision references, on
// every ISA, over sizes that exercise the vector tails.
#include "core/kernels/elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/core/kernels/isa_param.h"

namespace heed::kernels {
namespace {

const std::vector<int64_t> kSizes = {1, 3, 15, 16, 17, 64, 100, 512, 768, 1023};

std::vector<float> Random(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

using ElementwiseTest = IsaTest;

TEST_P(ElementwiseTest, LayerNormMatchesReference) {
  for (int64_t cols : kSizes) {
    const int64_t rows = 3;
    // An offset far from zero checks that the variance does not cancel.
    std::vector<float> x = Random(rows * cols, 99.0f, 101.0f, cols);
    const std::vector<float> gamma = Random(cols, 0.5f, 1.5f, cols + 1);
    const std::vector<float> beta = Random(cols, -1.0f, 1.0f, cols + 2);
    std::vector<float> y(x.size());
    LayerNorm(x.data(), y.data(), rows, cols, gamma.data(), beta.data(), 1e-5f);
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t c = 0; c < cols; ++c) mean += x[r * cols + c];
      mean /= cols;
      for (int64_t c = 0; c < cols; ++c) var += std::pow(x[r * cols + c] - mean, 2);
      var /= cols;
      for (int64_t c = 0; c < cols; ++c) {
        const double want =
            (x[r * cols + c] - mean) / std::sqrt(var + 1e-5) * gamma[c] + beta[c];
        ASSERT_NEAR(y[r * cols + c], want, 2e-4) << "cols=" << cols;
      }
    }
    // In place gives the same answer.
    LayerNorm(x.data(), x.data(), rows, cols, gamma.data(), beta.data(), 1e-5f);
    EXPECT_EQ(x, y);
  }
}

TEST_P(ElementwiseTest, SoftmaxMatchesReference) {
  for (int64_t cols : kSizes) {
    std::vector<float> x = Random(2 * cols, -30.0f, 30.0f, cols);
    const std::vector<float> orig = x;
    Softmax(x.data(), 2, cols);
    for (int r = 0; r < 2; ++r) {
      double max_v = -INFINITY, sum = 0;
      for (int64_t c = 0; c < cols; ++c)
        max_v = std::max<double>(max_v, orig[r * cols + c]);
      for (int64_t c = 0; c < cols; ++c) sum += std::exp(orig[r * cols + c] - max_v);
      for (int64_t c = 0; c < cols; ++c) {
        const double want = std::exp(orig[r * cols + c] - max_v) / sum;
        ASSERT_NEAR(x[r * cols + c], want, 1e-6 + 1e-5 * want) << "cols=" << cols;
      }
    }
  }
}

TEST_P(ElementwiseTest, LogSoftmaxMatchesReference) {
  std::vector<int64_t> sizes = kSizes;
  sizes.push_back(8000);   // the bundled Marian vocabulary
  sizes.push_back(58101);  // opus-mt-en-de's
  for (int64_t n : sizes) {
    std::vector<float> x = Random(n, -40.0f, 25.0f, n);
    const int64_t banned = n > 1 ? n / 2 : -1;  // a banned token stays banned
    if (banned >= 0) x[banned] = -INFINITY;
    const std::vector<float> orig = x;
    LogSoftmax(x.data(), n);
    double max_v = -INFINITY, sum = 0;
    for (float v : orig) max_v = std::max<double>(max_v, v);
    for (float v : orig) sum += std::exp(v - max_v);
    const double log_normalizer = max_v + std::log(sum);
    for (int64_t i = 0; i < n; ++i) {
      if (i == banned) {
        EXPECT_EQ(x[i], -INFINITY);
        continue;
      }
      ASSERT_NEAR(x[i], orig[i] - log_normalizer, 2e-5 * (1 + std::abs(orig[i])))
          << "n=" << n << " i=" << i;
    }
  }
}

TEST_P(ElementwiseTest, ArgMaxIsTheFirstLargest) {
  std::vector<int64_t> sizes = kSizes;
  sizes.push_back(8000);
  sizes.push_back(58101);
  for (int64_t n : sizes) {
    std::vector<float> x = Random(n, -40.0f, 25.0f, n + 7);
    EXPECT_EQ(ArgMax(x.data(), n), std::max_element(x.begin(), x.end()) - x.begin())
        << "n=" << n;
    // Ties: the first of equal maxima, wherever they fall (lanes, tail).
    for (int64_t first : {int64_t{0}, n / 3, n - 1}) {
      std::vector<float> y = x;
      y[first] = 100.0f;
      for (int64_t later = first + 1; later < n; later += std::max<int64_t>(1, n / 5)) {
        y[later] = 100.0f;
      }
      EXPECT_EQ(ArgMax(y.data(), n), first) << "n=" << n;
    }
    // Forbidden tokens (-inf) everywhere but one, and everywhere.
    std::vector<float> banned(n, -INFINITY);
    banned[n / 2] = -3.0f;
    EXPECT_EQ(ArgMax(banned.data(), n), n / 2);
    std::fill(banned.begin(), banned.end(), -INFINITY);
    EXPECT_EQ(ArgMax(banned.data(), n), 0);
  }
}

// The bf16 nearest to x (ties to the even one), found by comparing the two
// candidates around it in double precision; the largest finite bf16 rounds up
// to infinity past 2^128 - 2^119, as IEEE rounding does.
uint16_t NearestBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  const uint16_t below = static_cast<uint16_t>(bits >> 16);
  if (std::isinf(x)) return below;
  const uint16_t above = static_cast<uint16_t>(below + 1);
  auto value = [](uint16_t b) {
    if ((b & 0x7fff) == 0x7f80)
      return std::copysign(std::ldexp(1.0, 128), b & 0x8000 ? -1.0 : 1.0);
    return static_cast<double>(Bf16ToFloat(bf16{b}));
  };
  const double to_below = std::abs(x - value(below)),
               to_above = std::abs(value(above) - x);
  if (to_below != to_above) return to_below < to_above ? below : above;
  return (below & 1) == 0 ? below : above;
}

TEST_P(ElementwiseTest, ConvertToBf16RoundsToNearestEven) {
  for (int64_t n : kSizes) {
    std::vector<float> x = Random(n, -3.0f, 3.0f, n + 3);
    // Exact ties, both parities: 1 + 2^-8 (to 1) and 1 + 3 * 2^-8 (up).
    const float specials[] = {0.0f,
                              -0.0f,
                              1.0f + 1.0f / 256,
                              1.0f + 3.0f / 256,
                              1e-40f,
                              -1e-40f,
                              3.0e38f,
                              std::numeric_limits<float>::max(),
                              INFINITY,
                              -INFINITY,
                              NAN};
    for (size_t i = 0; i < std::size(specials) && i < x.size(); ++i) x[i] = specials[i];
    std::vector<bf16> y(n);
    ConvertToBf16(x.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(x[i])) {
        EXPECT_TRUE(std::isnan(Bf16ToFloat(y[i]))) << "n=" << n << " i=" << i;
      } else {
        EXPECT_EQ(y[i].bits, NearestBf16(x[i])) << x[i] << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST_P(ElementwiseTest, QuantizeRowToU8RoundsToNearestEven) {
  for (int64_t n : kSizes) {
    std::vector<float> x = Random(n, -2.0f, 2.0f, n + 5);
    // Exact halves of the scale (127 / 2 = 63.5 at max |x| = 2) round to even.
    x[0] = n > 1 ? 2.0f : x[0];
    if (n > 2) x[1] = 63.5f * 2.0f / 127.0f;
    if (n > 3) x[2] = -0.0f;
    std::vector<uint8_t> q(n);
    const float scale = QuantizeRowToU8(x.data(), n, q.data());
    float max_abs = 0.0f;
    for (float v : x) max_abs = std::max(max_abs, std::abs(v));
    EXPECT_EQ(scale, max_abs / 127.0f) << "n=" << n;
    for (int64_t i = 0; i < n; ++i) {
      const float code =
          std::nearbyint(std::clamp(x[i] * (1.0f / scale), -127.0f, 127.0f));
      EXPECT_EQ(q[i], static_cast<int>(code) + 128) << "n=" << n << " i=" << i;
    }
  }
  std::vector<float> zeros(17, 0.0f);
  std::vector<uint8_t> q(17);
  EXPECT_EQ(QuantizeRowToU8(zeros.data(), 17, q.data()), 1.0f);
  EXPECT_EQ(q, std::vector<uint8_t>(17, 128));
}

TEST_P(ElementwiseTest, DequantizeRowScalesShiftsAndAddsBias) {
  for (int64_t n : kSizes) {
    std::mt19937 rng(n);
    std::uniform_int_distribution<int32_t> ints(-1 << 20, 1 << 20);
    std::vector<int32_t> sums(n), compensation(n);
    for (int64_t i = 0; i < n; ++i) {
      sums[i] = ints(rng);
      compensation[i] = ints(rng);
    }
    const std::vector<float> scales = Random(n, 1e-4f, 1e-2f, n + 7);
    const std::vector<float> bias = Random(n, -1.0f, 1.0f, n + 9);
    for (const float* b : {bias.data(), static_cast<const float*>(nullptr)}) {
      std::vector<float> y(n + 1, 42.0f);  // the element past the row stays
      DequantizeRow(sums.data(), compensation.data(), scales.data(), b, 0.03f, y.data(),
                    n);
      for (int64_t i = 0; i < n; ++i) {
        const double want = 0.03 * static_cast<double>(scales[i]) *
                                (static_cast<double>(sums[i]) - compensation[i]) +
                            (b != nullptr ? b[i] : 0.0);
        EXPECT_NEAR(y[i], want, 1e-5 * std::abs(want) + 1e-6) << "n=" << n << " i=" << i;
      }
      EXPECT_EQ(y[n], 42.0f);
    }
  }
}

TEST_P(ElementwiseTest, GeluBothForms) {
  for (int64_t n : kSizes) {
    const std::vector<float> orig = Random(n, -8.0f, 8.0f, n);
    for (GeluForm form : {GeluForm::kErf, GeluForm::kTanh}) {
      std::vector<float> x = orig;
      Gelu(x.data(), n, form);
      for (int64_t i = 0; i < n; ++i) {
        const double v = orig[i];
        const double want =
            form == GeluForm::kErf
                ? 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)))
                : 0.5 * v *
                      (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
        ASSERT_NEAR(x[i], want, 2e-6 + 1e-6 * std::abs(want)) << "x=" << v;
      }
    }
  }
}

TEST_P(ElementwiseTest, AddInPlace) {
  for (int64_t n : kSizes) {
    std::vector<float> y = Random(n, -1, 1, n);
    const std::vector<float> x = Random(n, -1, 1, n + 7);
    const std::vector<float> orig = y;
    AddInPlace(y.data(), x.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], orig[i] + x[i]);
  }
}

TEST_P(ElementwiseTest, EmbeddingGatherScalesRows) {
  const int64_t vocab = 50, cols = 37;
  const std::vector<float> table = Random(vocab * cols, -1, 1, 5);
  const std::vector<int32_t> ids = {0, 49, 7, 7};
  std::vector<float> out(ids.size() * cols);
  ASSERT_TRUE(EmbeddingGather(table.data(), vocab, cols, ids, 2.0f, out.data()).ok());
  for (size_t i = 0; i < ids.size(); ++i) {
    for (int64_t c = 0; c < cols; ++c) {
      ASSERT_EQ(out[i * cols + c], table[ids[i] * cols + c] * 2.0f);
    }
  }
  const std::vector<int32_t> bad = {3, 50};
  absl::Status status = EmbeddingGather(table.data(), vocab, cols, bad, 1.0f, out.data());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("token id 50"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Isa, ElementwiseTest, ::testing::ValuesIn(cpu::SupportedIsas()),
                         IsaParamName);

}  // namespace
}  // namespace heed::kernels
