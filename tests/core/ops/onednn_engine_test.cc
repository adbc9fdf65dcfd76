// heed's ISA level caps oneDNN: the instruction set oneDNN reports after the
// engine exists matches the level this process runs at (ctest runs every
// level the CPU has, with HEED_ISA set).
#include "core/ops/onednn_engine.h"

#include <string>

#include "core/cpu/cpu_features.h"
#include "gtest/gtest.h"

namespace heed::ops {
namespace {

TEST(OneDnnEngineTest, OneDnnRunsAtHeedsLevel) {
  const cpu::Isa level = cpu::IsaCeiling();
  const std::string onednn = OneDnnIsaName();
  if (level == cpu::BestSupportedIsa()) {
    // The best level leaves oneDNN uncapped (AMX, AVX2-VNNI and the like
    // serve it where heed has no level for them).
    EXPECT_NE(onednn, "other");
    return;
  }
  switch (level) {
    case cpu::Isa::kGeneric:
      EXPECT_EQ(onednn, "sse41");
      break;
    case cpu::Isa::kAvx2:
      EXPECT_EQ(onednn, "avx2");
      break;
    case cpu::Isa::kAvx512:
      EXPECT_EQ(onednn, "avx512_core");
      break;
    case cpu::Isa::kAvx512Vnni:
      EXPECT_EQ(onednn, "avx512_core_vnni");
      break;
    case cpu::Isa::kAvx512Bf16:
      EXPECT_EQ(onednn, "avx512_core_bf16");
      break;
  }
  EXPECT_EQ(OneDnnHasInt8DotProducts(), level >= cpu::Isa::kAvx512Vnni);
  EXPECT_EQ(OneDnnHasBf16DotProducts(), level >= cpu::Isa::kAvx512Bf16);
}

}  // namespace
}  // namespace heed::ops
