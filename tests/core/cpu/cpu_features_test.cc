#include "core/cpu/cpu_features.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace heed::cpu {
namespace {

TEST(CpuFeaturesTest, IsaNamesRoundTrip) {
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
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
  if (BestSupportedIsa() == Isa::kAvx512) {
    EXPECT_TRUE(f.avx512bw && f.avx512vl);
  }
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

TEST(CpuFeaturesTest, ForcingAnIsaTheCpuLacksFails) {
  if (BestSupportedIsa() == Isa::kAvx512) GTEST_SKIP() << "CPU supports every ISA";
  EXPECT_FALSE(SetActiveIsaForTesting(Isa::kAvx512).ok());
}

TEST(CpuFeaturesTest, ForcingGenericAlwaysWorks) {
  ASSERT_TRUE(SetActiveIsaForTesting(Isa::kGeneric).ok());
  EXPECT_EQ(ActiveIsa(), Isa::kGeneric);
  EXPECT_FALSE(ActiveIsaHasBf16());
  ASSERT_TRUE(SetActiveIsaForTesting(BestSupportedIsa()).ok());
}

}  // namespace
}  // namespace heed::cpu
