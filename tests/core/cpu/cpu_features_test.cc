#include "core/cpu/cpu_features.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace heed::cpu {
namespace {

TEST(CpuFeaturesTest, IsaNamesRoundTrip) {
  for (Isa isa : kAllIsas) {
    absl::StatusOr<Isa> parsed = ParseIsa(IsaName(isa));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, isa);
  }
  EXPECT_FALSE(ParseIsa("sse2").ok());
}

TEST(CpuFeaturesTest, FeaturesAreConsistent) {
  const CpuFeatures& f = DetectedFeatures();
  // AVX-512 subsets imply the foundation.
  if (f.avx512bw || f.avx512vl || f.avx512_bf16 || f.avx512_vnni) {
    EXPECT_TRUE(f.avx512f);
  }
  if (BestSupportedIsa() >= Isa::kAvx512) {
    EXPECT_TRUE(f.avx512bw && f.avx512vl && f.avx512dq);
  }
  if (BestSupportedIsa() >= Isa::kAvx512Vnni) {
    EXPECT_TRUE(f.avx512_vnni);
  }
  if (BestSupportedIsa() >= Isa::kAvx512Bf16) {
    EXPECT_TRUE(f.avx512_bf16);
  }
  EXPECT_EQ(SupportedIsas().back(), IsaCeiling());
  EXPECT_EQ(SupportedIsas().front(), Isa::kGeneric);
}

TEST(CpuFeaturesTest, EnvironmentSelectsIsa) {
  setenv("HEED_ISA", "generic", 1);
  absl::StatusOr<Isa> isa = IsaFromEnvironment();
  ASSERT_TRUE(isa.ok());
  EXPECT_EQ(*isa, Isa::kGeneric);

  setenv("HEED_ISA", "nonsense", 1);
  EXPECT_EQ(IsaFromEnvironment().status().code(), absl::StatusCode::kInvalidArgument);

  unsetenv("HEED_ISA");
  isa = IsaFromEnvironment();
  ASSERT_TRUE(isa.ok());
  EXPECT_EQ(*isa, BestSupportedIsa());
}

TEST(CpuFeaturesTest, OneDnnCapLowersTheLevel) {
  unsetenv("HEED_ISA");
  // A cap given to oneDNN directly caps heed's kernels and int8 scheme too.
  setenv("ONEDNN_MAX_CPU_ISA", "SSE41", 1);
  absl::StatusOr<Isa> isa = IsaFromEnvironment();
  ASSERT_TRUE(isa.ok());
  EXPECT_EQ(*isa, Isa::kGeneric);
  // ...but never raises it.
  setenv("ONEDNN_MAX_CPU_ISA", "ALL", 1);
  setenv("HEED_ISA", "generic", 1);
  isa = IsaFromEnvironment();
  ASSERT_TRUE(isa.ok());
  EXPECT_EQ(*isa, Isa::kGeneric);
  unsetenv("ONEDNN_MAX_CPU_ISA");
  unsetenv("HEED_ISA");
}

TEST(CpuFeaturesTest, LevelsAboveTheCpuAreRefused) {
  if (BestSupportedIsa() == Isa::kAvx512Bf16) GTEST_SKIP() << "CPU supports every level";
  setenv("HEED_ISA", "avx512_bf16", 1);
  EXPECT_EQ(IsaFromEnvironment().status().code(), absl::StatusCode::kFailedPrecondition);
  unsetenv("HEED_ISA");
}

TEST(CpuFeaturesTest, ForcingAboveTheCeilingFails) {
  if (IsaCeiling() == Isa::kAvx512Bf16) GTEST_SKIP() << "the ceiling is the top level";
  EXPECT_FALSE(SetActiveIsaForTesting(Isa::kAvx512Bf16).ok());
}

TEST(CpuFeaturesTest, ForcingGenericAlwaysWorks) {
  ASSERT_TRUE(SetActiveIsaForTesting(Isa::kGeneric).ok());
  EXPECT_EQ(ActiveIsa(), Isa::kGeneric);
  EXPECT_FALSE(ActiveIsaHasBf16());
  ASSERT_TRUE(SetActiveIsaForTesting(IsaCeiling()).ok());
}

}  // namespace
}  // namespace heed::cpu
