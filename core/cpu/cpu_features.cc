#include "core/cpu/cpu_features.h"

#include <cpuid.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
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
  f.avx512dq = ((ebx >> 17) & 1) && f.avx512f;
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
  if (!(f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq)) {
    return f.avx2 ? Isa::kAvx2 : Isa::kGeneric;
  }
  if (!f.avx512_vnni) return Isa::kAvx512;
  return f.avx512_bf16 ? Isa::kAvx512Bf16 : Isa::kAvx512Vnni;
}

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> isas;
  for (Isa isa : kAllIsas) {
    if (isa <= IsaCeiling()) isas.push_back(isa);
  }
  return isas;
}

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Bf16:
      return "avx512_bf16";
    case Isa::kAvx512Vnni:
      return "avx512_vnni";
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
  for (Isa isa : kAllIsas) {
    if (name == IsaName(isa)) return isa;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown ISA level \"", std::string(name),
                   "\"; expected generic, avx2, avx512, avx512_vnni or avx512_bf16"));
}

namespace {

// The heed level that oneDNN's ISA cap of this name allows, if it names one
// (oneDNN's own names: SSE41, AVX2, AVX512_CORE_VNNI, ...); ALL caps nothing.
std::optional<Isa> LevelOfOneDnnCap(std::string name) {
  name = absl::AsciiStrToUpper(name);
  if (name == "SSE41" || name == "AVX") return Isa::kGeneric;
  if (name == "AVX2" || name == "AVX2_VNNI") return Isa::kAvx2;
  if (name == "AVX512_CORE" || name == "AVX512_MIC" || name == "AVX512_MIC_4OPS") {
    return Isa::kAvx512;
  }
  if (name == "AVX512_CORE_VNNI") return Isa::kAvx512Vnni;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Isa> IsaFromEnvironment() {
  Isa isa = BestSupportedIsa();
  const char* env = std::getenv("HEED_ISA");
  if (env != nullptr && *env != '\0') {
    absl::StatusOr<Isa> parsed = ParseIsa(env);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HEED_ISA: ", parsed.status().message()));
    }
    if (*parsed > BestSupportedIsa()) {
      return absl::FailedPreconditionError(
          absl::StrCat("HEED_ISA=", env, " but this CPU supports at most ",
                       std::string(IsaName(BestSupportedIsa()))));
    }
    isa = *parsed;
  }
  // A cap the user gave oneDNN directly lowers heed's level too, so that
  // heed's kernels and its int8 scheme agree with what oneDNN will run.
  for (const char* name : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
    const char* cap = std::getenv(name);
    if (cap == nullptr) continue;
    if (std::optional<Isa> level = LevelOfOneDnnCap(cap); level && *level < isa) {
      isa = *level;
    }
  }
  return isa;
}

Isa IsaCeiling() {
  static const Isa ceiling = [] {
    absl::StatusOr<Isa> from_env = IsaFromEnvironment();
    return from_env.ok() ? *from_env : BestSupportedIsa();
  }();
  return ceiling;
}

Isa ActiveIsa() {
  const int forced = g_forced_isa.load(std::memory_order_relaxed);
  if (forced >= 0) return static_cast<Isa>(forced);
  return IsaCeiling();
}

absl::Status SetActiveIsaForTesting(Isa isa) {
  if (isa > IsaCeiling()) {
    return absl::FailedPreconditionError(
        absl::StrCat("ISA level ", std::string(IsaName(isa)), " is above this process's ",
                     std::string(IsaName(IsaCeiling())), " (CPU or HEED_ISA)"));
  }
  g_forced_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
  return absl::OkStatus();
}

bool ActiveIsaHasBf16() { return ActiveIsa() >= Isa::kAvx512Bf16; }

}  // namespace heed::cpu
