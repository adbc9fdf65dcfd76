// This machine's limits, measured in the benchmark binary itself so that the
// fractions reported next to each result come from the same run.
#ifndef HEED_BENCH_MACHINE_LIMITS_H_
#define HEED_BENCH_MACHINE_LIMITS_H_

namespace heed::bench {

// Single-thread f32 FMA throughput in GFLOP/s: 16 independent accumulator
// chains of 16-lane FMAs (enough to hide the FMA latency), or 8-lane AVX2
// FMAs on CPUs without AVX-512.
double MeasureFmaPeakGflops();

// Single-thread memcpy bandwidth over buffers far larger than the caches, in
// GB/s counting bytes read plus bytes written (the STREAM "copy" convention).
double MeasureCopyBandwidthGbs();

// Single-thread read bandwidth (a vectorized sum over buffers far larger than
// the caches) in GB/s: the rate at which weights or a KV cache can stream in.
double MeasureReadBandwidthGbs();

}  // namespace heed::bench

#endif  // HEED_BENCH_MACHINE_LIMITS_H_
