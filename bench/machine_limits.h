// This machine's limits, measured in the benchmark binary itself so that the
// fractions reported next to each result come from the same run.
#ifndef HEED_BENCH_MACHINE_LIMITS_H_
#define HEED_BENCH_MACHINE_LIMITS_H_

namespace heed::bench {

// f32 FMA throughput in GFLOP/s of `threads` threads running at once: 16
// independent accumulator chains of 16-lane FMAs per thread (enough to hide
// the FMA latency), or 8-lane AVX2 FMAs below the avx512 level.
double MeasureFmaPeakGflops(int threads = 1);

// The multiply-accumulate peak of bfloat16 in GFLOP/s (2 per product) with
// vdpbf16ps, or 0 below the avx512_bf16 level (bfloat16 runs as float32 there).
double MeasureBf16PeakGflops(int threads = 1);

// The int8 multiply-accumulate peak in GOP/s (2 per product), with the
// instructions oneDNN's int8 kernels use at the active level: vpdpbusd with
// VNNI; vpmaddubsw + vpmaddwd + vpaddd (64 products in three instructions per
// zmm, or 32 per ymm at avx2) without it. 0 at the generic level.
double MeasureInt8PeakGops(int threads = 1);

// Single-thread memcpy bandwidth over buffers far larger than the caches, in
// GB/s counting bytes read plus bytes written (the STREAM "copy" convention).
double MeasureCopyBandwidthGbs();

// Read bandwidth of `threads` threads summing disjoint buffers far larger than
// the caches, in GB/s: the rate at which weights or a KV cache can stream in.
double MeasureReadBandwidthGbs(int threads = 1);

}  // namespace heed::bench

#endif  // HEED_BENCH_MACHINE_LIMITS_H_
