// Test parameters over every instruction set this CPU supports, so one test
// binary checks the portable and the fast paths against the same reference.
#ifndef HEED_TESTS_CORE_KERNELS_ISA_PARAM_H_
#define HEED_TESTS_CORE_KERNELS_ISA_PARAM_H_

#include <string>
#include <vector>

#include "core/cpu/cpu_features.h"
#include "gtest/gtest.h"

namespace heed::kernels {

// Every level up to the process's ceiling (the CPU's best, or HEED_ISA's).
inline std::vector<cpu::Isa> SupportedIsas() {
  std::vector<cpu::Isa> isas;
  for (cpu::Isa isa : cpu::kAllIsas) {
    if (isa <= cpu::IsaCeiling()) isas.push_back(isa);
  }
  return isas;
}

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
