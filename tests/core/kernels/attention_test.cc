// Fused attention against a naive double-precision reference, on every ISA.
//
// Tolerances (max absolute error of outputs whose magnitude is at most 1):
//   f32:  2e-5   (f32 accumulation over up to 1024 keys; exp within 2 ulp)
//   bf16: 1.5e-2 (the reference uses the same bf16-rounded inputs; the fast
//                path also rounds the probabilities to bf16 before P·V,
//                a relative error of 2^-9 per term)
#include "core/kernels/attention.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/core/kernels/isa_param.h"

namespace heed::kernels {
namespace {

template <typename T>
T FromFloat(float x) {
  if constexpr (std::is_same_v<T, float>) {
    return x;
  } else {
    return FloatToBf16(x);
  }
}
double ToDouble(float x) { return x; }
double ToDouble(bf16 x) { return Bf16ToFloat(x); }

// A packed batch with fused QKV rows: [tokens][3 * heads * head_dim], the
// layout a fused projection produces, so strides differ from head_dim * heads.
template <typename T>
struct Batch {
  std::vector<int32_t> q_offsets, k_offsets;
  std::vector<T> q, kv;  // q: [q_tokens][heads*D], kv: [k_tokens][2*heads*D]
  int heads, head_dim;
  int64_t q_stride() const { return int64_t{heads} * head_dim; }
  int64_t kv_stride() const { return 2 * int64_t{heads} * head_dim; }
};

template <typename T>
Batch<T> MakeBatch(const std::vector<int>& lq, const std::vector<int>& lk, int heads,
                   int head_dim, uint32_t seed) {
  Batch<T> batch;
  batch.heads = heads;
  batch.head_dim = head_dim;
  batch.q_offsets = {0};
  batch.k_offsets = {0};
  for (size_t b = 0; b < lq.size(); ++b) {
    batch.q_offsets.push_back(batch.q_offsets.back() + lq[b]);
    batch.k_offsets.push_back(batch.k_offsets.back() + lk[b]);
  }
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  batch.q.resize(batch.q_offsets.back() * batch.q_stride());
  batch.kv.resize(batch.k_offsets.back() * batch.kv_stride());
  for (auto& x : batch.q) x = FromFloat<T>(dist(rng));
  for (auto& x : batch.kv) x = FromFloat<T>(dist(rng));
  return batch;
}

struct Result {
  std::vector<float> out;
  std::vector<float> probs;
};

template <typename T>
Result RunFused(const Batch<T>& batch, float scale, bool causal, bool want_probs) {
  Result result;
  result.out.assign(batch.q_offsets.back() * batch.q_stride(), NAN);
  AttentionArgs<T> args;
  args.q = batch.q.data();
  args.q_row_stride = batch.q_stride();
  args.k = batch.kv.data();
  args.k_row_stride = batch.kv_stride();
  args.v = batch.kv.data() + batch.q_stride();
  args.v_row_stride = batch.kv_stride();
  args.out = result.out.data();
  args.out_row_stride = batch.q_stride();
  args.q_offsets = batch.q_offsets;
  args.k_offsets = batch.k_offsets;
  args.num_heads = batch.heads;
  args.head_dim = batch.head_dim;
  args.scale = scale;
  args.causal = causal;
  if (want_probs) {
    result.probs.assign(AttentionProbsSize(batch.q_offsets, batch.k_offsets, batch.heads),
                        NAN);
    args.probs = result.probs.data();
  }
  EXPECT_TRUE(Attention(args).ok());
  return result;
}

// softmax(scale Q Kᵀ + mask) V in double, one query at a time.
template <typename T>
Result Reference(const Batch<T>& batch, float scale, bool causal) {
  Result result;
  result.out.assign(batch.q_offsets.back() * batch.q_stride(), 0.0f);
  const int D = batch.head_dim;
  for (size_t b = 0; b + 1 < batch.q_offsets.size(); ++b) {
    const int lq = batch.q_offsets[b + 1] - batch.q_offsets[b];
    const int lk = batch.k_offsets[b + 1] - batch.k_offsets[b];
    for (int h = 0; h < batch.heads; ++h) {
      for (int i = 0; i < lq; ++i) {
        const int visible = causal ? std::clamp(i + lk - lq + 1, 0, lk) : lk;
        const T* q = &batch.q[(batch.q_offsets[b] + i) * batch.q_stride() + h * D];
        std::vector<double> s(lk, 0.0);
        double max_s = -INFINITY;
        for (int j = 0; j < visible; ++j) {
          const T* k = &batch.kv[(batch.k_offsets[b] + j) * batch.kv_stride() + h * D];
          double dot = 0;
          for (int d = 0; d < D; ++d) dot += ToDouble(q[d]) * ToDouble(k[d]);
          s[j] = dot * scale;
          max_s = std::max(max_s, s[j]);
        }
        double sum = 0;
        for (int j = 0; j < visible; ++j) sum += (s[j] = std::exp(s[j] - max_s));
        float* out = &result.out[(batch.q_offsets[b] + i) * batch.q_stride() + h * D];
        for (int d = 0; d < D; ++d) {
          double acc = 0;
          for (int j = 0; j < visible; ++j) {
            acc += s[j] * ToDouble(batch.kv[(batch.k_offsets[b] + j) * batch.kv_stride() +
                                            batch.q_stride() + h * D + d]);
          }
          out[d] = visible > 0 ? static_cast<float>(acc / sum) : 0.0f;
        }
        for (int j = 0; j < lk; ++j) {
          result.probs.push_back(j < visible ? static_cast<float>(s[j] / sum) : 0.0f);
        }
      }
    }
  }
  return result;
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double d = std::abs(double{a[i]} - b[i]);
    if (std::isnan(d)) return INFINITY;
    worst = std::max(worst, d);
  }
  return worst;
}

template <typename T>
constexpr double Tolerance() {
  return std::is_same_v<T, float> ? 2e-5 : 1.5e-2;
}

template <typename T>
void CheckCase(const std::vector<int>& lq, const std::vector<int>& lk, int heads,
               int head_dim, bool causal, float scale_factor = 1.0f) {
  SCOPED_TRACE(testing::Message()
               << "head_dim=" << head_dim << " causal=" << causal
               << " batch=" << lq.size() << " lq[0]=" << lq[0] << " lk[0]=" << lk[0]);
  const Batch<T> batch = MakeBatch<T>(lq, lk, heads, head_dim, 17 * lq[0] + lk[0]);
  const float scale = scale_factor / std::sqrt(static_cast<float>(head_dim));
  const Result want = Reference(batch, scale, causal);
  const Result got = RunFused(batch, scale, causal, /*want_probs=*/false);
  EXPECT_LE(MaxAbsDiff(got.out, want.out), Tolerance<T>());
}

template <typename T>
class AttentionTypedTest : public IsaTest {};

using AttentionTest = IsaTest;

TEST_P(AttentionTest, SelfAttentionLengthsAndHeadDims) {
  for (int head_dim : {32, 64, 128}) {
    for (int len : {1, 2, 3, 7, 15, 16, 17, 63, 64, 65, 100, 129, 255}) {
      for (bool causal : {false, true}) {
        CheckCase<float>({len}, {len}, 2, head_dim, causal);
        CheckCase<bf16>({len}, {len}, 2, head_dim, causal);
      }
    }
  }
}

TEST_P(AttentionTest, LongSequences) {
  for (int len : {513, 1024}) {
    CheckCase<float>({len}, {len}, 1, 64, /*causal=*/true);
    CheckCase<bf16>({len}, {len}, 1, 64, /*causal=*/false);
  }
  CheckCase<float>({1024}, {1024}, 1, 128, /*causal=*/false);
}

TEST_P(AttentionTest, MixedLengthBatchesWithoutPadding) {
  const std::vector<int> lengths = {5, 64, 1, 130, 33, 17};
  for (int head_dim : {32, 64, 128}) {
    for (bool causal : {false, true}) {
      CheckCase<float>(lengths, lengths, 3, head_dim, causal);
      CheckCase<bf16>(lengths, lengths, 3, head_dim, causal);
    }
  }
}

TEST_P(AttentionTest, CrossAttentionAndCachedCausalQueries) {
  // Decoder queries over encoder keys (no mask), and the last lq positions of a
  // causal sequence whose earlier keys are cached (lq < lk).
  const std::vector<int> lq = {1, 9, 20, 3, 53};
  const std::vector<int> lk = {40, 7, 77, 200, 300};
  for (int head_dim : {32, 64, 128}) {
    CheckCase<float>(lq, lk, 2, head_dim, /*causal=*/false);
    CheckCase<float>(lq, lk, 2, head_dim, /*causal=*/true);
    CheckCase<bf16>(lq, lk, 2, head_dim, /*causal=*/false);
    CheckCase<bf16>(lq, lk, 2, head_dim, /*causal=*/true);
  }
}

TEST_P(AttentionTest, PeakedSoftmaxStaysStable) {
  // Scores up to about ±40: the online softmax must rescale without overflow.
  CheckCase<float>({100, 37}, {300, 37}, 2, 64, /*causal=*/false, /*scale_factor=*/20.0f);
  CheckCase<float>({100}, {100}, 2, 64, /*causal=*/true, /*scale_factor=*/20.0f);
}

TEST_P(AttentionTest, ProbabilitiesForExplainability) {
  const std::vector<int> lq = {4, 9};
  const std::vector<int> lk = {11, 9};
  const Batch<float> batch = MakeBatch<float>(lq, lk, 2, 64, 3);
  const float scale = 0.125f;
  for (bool causal : {false, true}) {
    const Result want = Reference(batch, scale, causal);
    const Result got = RunFused(batch, scale, causal, /*want_probs=*/true);
    EXPECT_LE(MaxAbsDiff(got.out, want.out), 2e-5);
    EXPECT_LE(MaxAbsDiff(got.probs, want.probs), 1e-6);
  }
}

TEST_P(AttentionTest, EmptySequencesAreSkipped) {
  CheckCase<float>({0, 5, 0}, {0, 5, 3}, 1, 64, /*causal=*/false);
}

TEST_P(AttentionTest, RejectsBadArguments) {
  AttentionArgs<float> args;
  args.num_heads = 1;
  args.head_dim = 0;
  EXPECT_EQ(Attention(args).code(), absl::StatusCode::kInvalidArgument);
  const std::vector<int32_t> q_offsets = {0, 4, 2};
  const std::vector<int32_t> k_offsets = {0, 4, 8};
  args.head_dim = 64;
  args.q_offsets = q_offsets;
  args.k_offsets = k_offsets;
  EXPECT_EQ(Attention(args).code(), absl::StatusCode::kInvalidArgument);
}

// Decoding: one query per sequence over a head-major cache with spare capacity.
template <typename T>
void CheckDecode(int head_dim, const std::vector<int>& lengths) {
  SCOPED_TRACE(testing::Message() << "head_dim=" << head_dim);
  const int heads = 4;
  const int batch_size = static_cast<int>(lengths.size());
  // Express each sequence as a packed batch with lq = 1 for the reference.
  std::vector<int> ones(batch_size, 1);
  const Batch<T> batch = MakeBatch<T>(ones, lengths, heads, head_dim, 99);
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const Result want = Reference(batch, scale, /*causal=*/false);

  std::vector<std::vector<T>> k_cache(batch_size), v_cache(batch_size);
  std::vector<KvSequence<T>> kv(batch_size);
  for (int b = 0; b < batch_size; ++b) {
    const int capacity = lengths[b] + 13;
    k_cache[b].assign(int64_t{heads} * capacity * head_dim, FromFloat<T>(NAN));
    v_cache[b].assign(int64_t{heads} * capacity * head_dim, FromFloat<T>(NAN));
    for (int h = 0; h < heads; ++h) {
      for (int t = 0; t < lengths[b]; ++t) {
        for (int d = 0; d < head_dim; ++d) {
          const int64_t row = (batch.k_offsets[b] + t) * batch.kv_stride();
          const int64_t dst = (int64_t{h} * capacity + t) * head_dim + d;
          k_cache[b][dst] = batch.kv[row + h * head_dim + d];
          v_cache[b][dst] = batch.kv[row + batch.q_stride() + h * head_dim + d];
        }
      }
    }
    kv[b] = {k_cache[b].data(), v_cache[b].data(), int64_t{capacity} * head_dim,
             lengths[b]};
  }
  std::vector<float> out(batch_size * batch.q_stride(), NAN);
  DecodeAttentionArgs<T> args;
  args.q = batch.q.data();
  args.q_row_stride = batch.q_stride();
  args.out = out.data();
  args.out_row_stride = batch.q_stride();
  args.kv = kv;
  args.num_heads = heads;
  args.head_dim = head_dim;
  args.scale = scale;
  ASSERT_TRUE(DecodeAttention(args).ok());
  EXPECT_LE(MaxAbsDiff(out, want.out), Tolerance<T>());
}

TEST_P(AttentionTest, DecodeOverKvCache) {
  for (int head_dim : {32, 64, 128}) {
    CheckDecode<float>(head_dim, {1, 2, 17, 64, 511, 1024});
    CheckDecode<bf16>(head_dim, {1, 2, 17, 64, 511, 1024});
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, AttentionTest, ::testing::ValuesIn(cpu::SupportedIsas()),
                         IsaParamName);

}  // namespace
}  // namespace heed::kernels
