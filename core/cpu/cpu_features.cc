#include "core/cpu/cpu_features.h"

#include <cpuid.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace heed::cpu {
namespace {

uint64_t ReadXcr0() {
  uint32_t eax = 0, edx = 0;
  // xgetbv with ecx=0; only valid when OSXSAVE is set, which the caller checks.
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures Probe() {
  CpuFeatures f;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = (ecx >> 27) & 1;
  const bool fma = (ecx >> 12) & 1;
  if (osxsave) {
    const uint64_t xcr0 = ReadXcr0();
    f.os_saves_ymm = (xcr0 & 0x6) == 0x6;    // SSE and AVX state
    f.os_saves_zmm = (xcr0 & 0xe6) == 0xe6;  // plus opmask, ZMM_Hi256, Hi16_ZMM
  }
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  f.avx2 = ((ebx >> 5) & 1) && fma && f.os_saves_ymm;
  f.avx512f = ((ebx >> 16) & 1) && f.os_saves_zmm;
  f.avx512bw = ((ebx >> 30) & 1) && f.avx512f;
  f.avx512vl = ((ebx >> 31) & 1) && f.avx512f;
  f.avx512_vnni = ((ecx >> 11) & 1) && f.avx512f;
  f.amx_bf16 = (edx >> 22) & 1;
  f.amx_tile = (edx >> 24) & 1;
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  f.avx512_bf16 = ((eax >> 5) & 1) && f.avx512f;
  return f;
}

std::atomic<int> g_forced_isa{-1};

}  // namespace

const CpuFeatures& DetectedFeatures() {
  static const CpuFeatures features = Probe();
  return features;
}

Isa BestSupportedIsa() {
  const CpuFeatures& f = DetectedFeatures();
  if (f.avx512f && f.avx512bw && f.avx512vl) return Isa::kAvx512;
  if (f.avx2) return Isa::kAvx2;
  return Isa::kGeneric;
}

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kGeneric:
      return "generic";
  }
  return "unknown";
}

absl::StatusOr<Isa> ParseIsa(std::string_view name) {
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
    if (name == IsaName(isa)) return isa;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown ISA \"", std::string(name),
                                                 "\"; expected avx512, avx2 or generic"));
}

absl::StatusOr<Isa> IsaFromEnvironment() {
  const char* env = std::getenv("HEED_ISA");
  if (env == nullptr || *env == '\0') return BestSupportedIsa();
  absl::StatusOr<Isa> isa = ParseIsa(env);
  if (!isa.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("HEED_ISA: ", isa.status().message()));
  }
  if (static_cast<int>(*isa) > static_cast<int>(BestSupportedIsa())) {
    return absl::FailedPreconditionError(
        absl::StrCat("HEED_ISA=", env, " but this CPU supports at most ",
                     std::string(IsaName(BestSupportedIsa()))));
  }
  return *isa;
}

Isa ActiveIsa() {
  const int forced = g_forced_isa.load(std::memory_order_relaxed);
  if (forced >= 0) return static_cast<Isa>(forced);
  static const Isa isa = [] {
    absl::StatusOr<Isa> from_env = IsaFromEnvironment();
    return from_env.ok() ? *from_env : BestSupportedIsa();
  }();
  return isa;
}

absl::Status SetActiveIsaForTesting(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(BestSupportedIsa())) {
    return absl::FailedPreconditionError(
        absl::StrCat("this CPU does not support ", std::string(IsaName(isa))));
  }
  g_forced_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
  return absl::OkStatus();
}

bool ActiveIsaHasBf16() {
  return ActiveIsa() == Isa::kAvx512 && DetectedFeatures().avx512_bf16;
}

}  // namespace heed::cpu
