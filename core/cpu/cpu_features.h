// CPU feature detection and the choice of instruction set for every kernel.
// The CPU is probed once per process; HEED_ISA=avx512|avx2|generic can force a
// lower path (tests and benchmarks run each path on one machine this way).
#ifndef HEED_CORE_CPU_CPU_FEATURES_H_
#define HEED_CORE_CPU_CPU_FEATURES_H_

#include <string_view>

#include "absl/status/statusor.h"

namespace heed::cpu {

// Instruction sets that kernels are compiled for, from slowest to fastest.
enum class Isa { kGeneric = 0, kAvx2 = 1, kAvx512 = 2 };

struct CpuFeatures {
  bool avx2 = false;  // with FMA
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool amx_tile = false;
  bool amx_bf16 = false;
  bool os_saves_zmm = false;  // the OS preserves AVX-512 state (XCR0)
  bool os_saves_ymm = false;
};

// What the hardware (and OS) supports, probed on first use.
const CpuFeatures& DetectedFeatures();

// The best ISA the hardware supports.
Isa BestSupportedIsa();

// The ISA kernels use: the best supported one, or HEED_ISA's if set. An
// HEED_ISA that asks for more than the CPU supports is an error.
absl::StatusOr<Isa> IsaFromEnvironment();

// The ISA in effect for this process (IsaFromEnvironment, decided once;
// falls back to the best supported ISA if HEED_ISA is invalid).
Isa ActiveIsa();

// Forces the ISA for the rest of the process (tests and benchmarks only).
// Returns an error if the CPU does not support it.
absl::Status SetActiveIsaForTesting(Isa isa);

std::string_view IsaName(Isa isa);
absl::StatusOr<Isa> ParseIsa(std::string_view name);

// True when BF16 dot products (vdpbf16ps) can be used on the active ISA.
bool ActiveIsaHasBf16();

}  // namespace heed::cpu

#endif  // HEED_CORE_CPU_CPU_FEATURES_H_
