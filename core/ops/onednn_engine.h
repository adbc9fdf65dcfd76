// The process's oneDNN CPU engine and a stream per thread. oneDNN reports
// errors by throwing dnnl::error; OneDnnCall turns that into absl::Status so
// that no exception crosses core's boundary.
#ifndef HEED_CORE_OPS_ONEDNN_ENGINE_H_
#define HEED_CORE_OPS_ONEDNN_ENGINE_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace heed::ops {

// The engine, created on first use after capping oneDNN's instruction set at
// cpu::IsaCeiling().
dnnl::engine& CpuEngine();
// Streams are not meant to be shared between threads: one per thread.
dnnl::stream& ThreadStream();

// Whether oneDNN, as capped, multiplies u8 by s8 with VNNI (exact 32-bit
// sums). Without it, x86 sums pairs of products in 16 bits with saturation.
bool OneDnnHasInt8DotProducts();
// Whether oneDNN, as capped, has native bf16 dot products (else it emulates
// bf16, more slowly than f32).
bool OneDnnHasBf16DotProducts();
// The oneDNN library's version, e.g. "2.6.3" (for --version and logs).
std::string OneDnnVersion();
// The instruction set oneDNN runs with after the cap, in oneDNN's own names
// ("avx2", "avx512_core", "avx512_core_vnni", ...), for benchmarks and logs.
std::string OneDnnIsaName();

// Runs `fn`, mapping dnnl::error (and std::exception) to an absl::Status that
// names `what`.
template <typename Fn>
absl::Status OneDnnCall(const std::string& what, Fn&& fn) {
  try {
    std::forward<Fn>(fn)();
    return absl::OkStatus();
  } catch (const dnnl::error& e) {
    return absl::InternalError(absl::StrCat(what, ": oneDNN: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": ", e.what()));
  }
}

}  // namespace heed::ops

#endif  // HEED_CORE_OPS_ONEDNN_ENGINE_H_
