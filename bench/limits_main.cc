// heed-bench-limits: this machine's compute and memory limits at the active
// ISA level (HEED_ISA caps it) for --threads threads running at once, as one
// JSON object. tools/bench_limits.py divides each model's measured rate by
// these figures (model-FLOP utilization, bandwidth fraction).
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/machine_limits.h"
#include "core/cpu/cpu_features.h"

ABSL_FLAG(int, threads, 1, "Threads measured together.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::StatusOr<heed::cpu::Isa> isa = heed::cpu::IsaFromEnvironment(); !isa.ok()) {
    std::fprintf(stderr, "heed-bench-limits: %s\n", isa.status().ToString().c_str());
    return 2;
  }
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  using namespace heed::bench;
  std::printf(
      "{\"isa\": \"%s\", \"threads\": %d, \"f32_peak_gflops\": %.2f, "
      "\"bf16_peak_gflops\": %.2f, \"int8_peak_gops\": %.2f, "
      "\"read_bandwidth_gbs\": %.2f}\n",
      std::string(heed::cpu::IsaName(heed::cpu::ActiveIsa())).c_str(), threads,
      MeasureFmaPeakGflops(threads), MeasureBf16PeakGflops(threads),
      MeasureInt8PeakGops(threads), MeasureReadBandwidthGbs(threads));
  return 0;
}
