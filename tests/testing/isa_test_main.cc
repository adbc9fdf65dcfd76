// main() of the tests that ctest runs once per ISA level (HEED_ISA=<level>,
// see heed_discover_isa_tests in cmake/HeedTarget.cmake). A level above what
// this CPU supports exits 77, which ctest reports as skipped, with the reason.
#include <cstdio>

#include "core/cpu/cpu_features.h"
#include "gtest/gtest.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!GTEST_FLAG_GET(list_tests)) {
    absl::StatusOr<heed::cpu::Isa> isa = heed::cpu::IsaFromEnvironment();
    if (!isa.ok()) {
      std::printf("skipped: %s\n", std::string(isa.status().message()).c_str());
      return isa.status().code() == absl::StatusCode::kFailedPrecondition ? 77 : 1;
    }
    std::printf("ISA level %s (this CPU's best: %s)\n",
                std::string(heed::cpu::IsaName(*isa)).c_str(),
                std::string(heed::cpu::IsaName(heed::cpu::BestSupportedIsa())).c_str());
  }
  return RUN_ALL_TESTS();
}
