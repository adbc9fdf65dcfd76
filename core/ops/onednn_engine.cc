#include "core/ops/onednn_engine.h"

#include "core/cpu/cpu_features.h"

namespace heed::ops {
namespace {

// oneDNN's cap for a heed level. The best level the CPU has leaves oneDNN
// uncapped, so that instructions heed has no level for (AMX) still serve it.
dnnl::cpu_isa OneDnnCap(cpu::Isa isa) {
  if (isa == cpu::BestSupportedIsa()) return dnnl::cpu_isa::all;
  switch (isa) {
    case cpu::Isa::kGeneric:
      return dnnl::cpu_isa::sse41;
    case cpu::Isa::kAvx2:
      return dnnl::cpu_isa::avx2;
    case cpu::Isa::kAvx512:
      return dnnl::cpu_isa::avx512_core;
    case cpu::Isa::kAvx512Vnni:
      return dnnl::cpu_isa::avx512_core_vnni;
    case cpu::Isa::kAvx512Bf16:
      return dnnl::cpu_isa::avx512_core_bf16;
  }
  return dnnl::cpu_isa::all;
}

// Caps oneDNN once, before anything can create a primitive (every primitive
// needs the engine). The call fails if oneDNN's ISA was already read; nothing
// in heed reads it earlier.
void CapOneDnn() {
  const dnnl::cpu_isa cap = OneDnnCap(cpu::IsaCeiling());
  if (cap != dnnl::cpu_isa::all) dnnl::set_max_cpu_isa(cap);
}

}  // namespace

dnnl::engine& CpuEngine() {
  static dnnl::engine engine = [] {
    CapOneDnn();
    return dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return engine;
}

dnnl::stream& ThreadStream() {
  thread_local dnnl::stream stream(CpuEngine());
  return stream;
}

bool OneDnnHasInt8DotProducts() {
  CpuEngine();
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
    case dnnl::cpu_isa::avx2_vnni:
      return true;
    default:
      return false;
  }
}

std::string OneDnnVersion() {
  const dnnl_version_t* v = dnnl_version();
  return absl::StrCat(v->major, ".", v->minor, ".", v->patch);
}

std::string OneDnnIsaName() {
  CpuEngine();
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "other";
  }
}

bool OneDnnHasBf16DotProducts() {
  CpuEngine();
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
      return true;
    default:
      return false;
  }
}

}  // namespace heed::ops
