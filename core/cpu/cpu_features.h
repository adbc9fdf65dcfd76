// CPU feature detection and the one instruction-set ceiling of the process.
//
// heed runs at one ISA level, decided once: the best level the CPU and the OS
// support, lowered by HEED_ISA (or the server's --isa flag, which sets it) and
// by oneDNN's own ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA if those are set. The
// level picks heed's kernel table, and core/ops caps oneDNN at the same level
// before its first primitive, so a lower level reproduces an older CPU on a
// newer one (tests run every level the machine has this way).
#ifndef HEED_CORE_CPU_CPU_FEATURES_H_
#define HEED_CORE_CPU_CPU_FEATURES_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace heed::cpu {

// ISA levels, from slowest to fastest; each includes the ones before it.
//   kAvx2:        AVX2 + FMA (Haswell, Zen 1-3)
//   kAvx512:      AVX-512 F/BW/VL/DQ (Skylake-SP)
//   kAvx512Vnni:  + AVX512_VNNI int8 dot products (Cascade Lake, Ice Lake)
//   kAvx512Bf16:  + AVX512_BF16 dot products (Cooper Lake, Sapphire Rapids, Zen 4)
enum class Isa { kGeneric = 0, kAvx2 = 1, kAvx512 = 2, kAvx512Vnni = 3, kAvx512Bf16 = 4 };

inline constexpr Isa kAllIsas[] = {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512,
                                   Isa::kAvx512Vnni, Isa::kAvx512Bf16};

struct CpuFeatures {
  bool avx2 = false;  // with FMA
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool amx_tile = false;
  bool amx_bf16 = false;
  bool os_saves_zmm = false;  // the OS preserves AVX-512 state (XCR0)
  bool os_saves_ymm = false;
};

// What the hardware (and OS) supports, probed on first use.
const CpuFeatures& DetectedFeatures();

// The best level the hardware and OS support.
Isa BestSupportedIsa();

// Every level from generic up to IsaCeiling(): the levels this process can
// run (tests and benchmarks compare them).
std::vector<Isa> SupportedIsas();

// The level requested by the environment: HEED_ISA if set (an error if it is
// unknown or above what the CPU supports), else the best supported level;
// lowered to ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA where that asks for less.
absl::StatusOr<Isa> IsaFromEnvironment();

// The process's ceiling: IsaFromEnvironment(), decided once (the best
// supported level if the environment is invalid; the server refuses to start
// in that case). oneDNN is capped at this level.
Isa IsaCeiling();

// The level heed's kernels use now: IsaCeiling(), or a lower level a test or
// benchmark forced with SetActiveIsaForTesting.
Isa ActiveIsa();

// Forces the kernels' level for the rest of the process (tests and benchmarks
// only). Fails above IsaCeiling(): oneDNN cannot be raised once capped.
absl::Status SetActiveIsaForTesting(Isa isa);

std::string_view IsaName(Isa isa);
absl::StatusOr<Isa> ParseIsa(std::string_view name);

// True when BF16 dot products (vdpbf16ps) can be used at the active level.
bool ActiveIsaHasBf16();

}  // namespace heed::cpu

#endif  // HEED_CORE_CPU_CPU_FEATURES_H_
