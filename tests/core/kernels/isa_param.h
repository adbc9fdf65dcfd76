// Test parameters over every ISA level this process can run
// (cpu::SupportedIsas), so one test binary checks the portable and the fast
// paths against the same reference.
#ifndef HEED_TESTS_CORE_KERNELS_ISA_PARAM_H_
#define HEED_TESTS_CORE_KERNELS_ISA_PARAM_H_

#include <string>

#include "core/cpu/cpu_features.h"
#include "gtest/gtest.h"

namespace heed::kernels {

inline std::string IsaParamName(const ::testing::TestParamInfo<cpu::Isa>& info) {
  return std::string(cpu::IsaName(info.param));
}

// Forces the parameter's ISA for the duration of a test.
class IsaTest : public ::testing::TestWithParam<cpu::Isa> {
 protected:
  void SetUp() override { ASSERT_TRUE(cpu::SetActiveIsaForTesting(GetParam()).ok()); }
  void TearDown() override {
    ASSERT_TRUE(cpu::SetActiveIsaForTesting(cpu::IsaCeiling()).ok());
  }
};

}  // namespace heed::kernels

#endif  // HEED_TESTS_CORE_KERNELS_ISA_PARAM_H_
