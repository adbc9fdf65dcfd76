// heed-bench-kernels: fused attention, decode attention and linear layers,
// each next to a baseline from the same run:
//   peak_fraction       fused attention FLOP/s / measured single-thread FMA peak
//   vs_onednn_unfused   unfused oneDNN f32 time / fused time (same shapes)
//   vs_f32_fused        f32 fused time / bf16 fused time
//   vs_generic          portable-path time / fused time (f32, batch 1, len <= 512)
//   bandwidth_fraction  decode K+V bytes read per second / measured copy bandwidth
//   roofline_fraction   linear GFLOP/s / min(peak, arithmetic intensity x read
//                       bandwidth); peak: the FMA peak (f32), twice it (bf16),
//                       the level's measured int8 peak (int8)
// Runs on one thread unless --threads says otherwise, at the CPU's best ISA
// level unless --isa=LEVEL (or HEED_ISA) caps it; the FMA peak and read
// bandwidth are measured with that level's vectors (ymm at avx2 and below).
// The machine line goes to stderr and into the JSON context, so that
// --benchmark_format=json prints pure JSON on stdout.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/machine_limits.h"
#include "bench/unfused_attention.h"
#include "benchmark/benchmark.h"
#include "core/cpu/cpu_features.h"
#include "core/cpu/threading.h"
#include "core/kernels/attention.h"
#include "core/ops/linear.h"
#include "core/ops/onednn_engine.h"

namespace heed::bench {
namespace {

double g_fma_peak_gflops = 0;
double g_int8_peak_gops = 0;
double g_copy_gbs = 0;
double g_read_gbs = 0;

constexpr int kHeads = 8;
constexpr int kHeadDim = 64;

template <typename T>
std::vector<T> RandomVector(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<T> v(n);
  for (auto& x : v) {
    if constexpr (std::is_same_v<T, float>) {
      x = dist(rng);
    } else {
      x = FloatToBf16(dist(rng));
    }
  }
  return v;
}

// Seconds per call of fn, over `iterations` calls.
template <typename Fn>
double TimePerCall(int iterations, Fn&& fn) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
         iterations;
}

// Self-attention over `batch` sequences of `len` tokens, no mask.
template <typename T>
struct AttentionCase {
  AttentionCase(int len, int batch)
      : q(RandomVector<T>(size_t(len) * batch * kHeads * kHeadDim, 1)),
        k(RandomVector<T>(q.size(), 2)),
        v(RandomVector<T>(q.size(), 3)),
        out(q.size()) {
    for (int b = 0; b <= batch; ++b) offsets.push_back(b * len);
    args.q = q.data();
    args.k = k.data();
    args.v = v.data();
    args.out = out.data();
    args.q_row_stride = args.k_row_stride = args.v_row_stride = args.out_row_stride =
        kHeads * kHeadDim;
    args.q_offsets = args.k_offsets = offsets;
    args.num_heads = kHeads;
    args.head_dim = kHeadDim;
    args.scale = 1.0f / std::sqrt(float{kHeadDim});
  }
  void Run() {
    if (!kernels::Attention(args).ok()) std::abort();
  }
  std::vector<T> q, k, v;
  std::vector<float> out;
  std::vector<int32_t> offsets;
  kernels::AttentionArgs<T> args;
};

template <typename T>
void BM_FusedAttention(benchmark::State& state) {
  const int len = state.range(0), batch = state.range(1);
  AttentionCase<T> c(len, batch);
  c.Run();  // warm-up: packing buffers, page faults
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) c.Run();
  const double fused =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
      state.iterations();
  const double flops = 4.0 * len * len * kHeadDim * kHeads * batch;
  const double gflops = flops / fused / 1e9;
  state.counters["GFLOPs"] = gflops;
  state.counters["peak_fraction"] = gflops / g_fma_peak_gflops;
  const int reps = std::max<int>(2, state.iterations() / 2);
  // The unfused baseline is f32 (oneDNN's softmax has no bf16 path on this
  // CPU); bf16 runs are compared with it and with the f32 fused kernel.
  AttentionCase<float> f32(len, batch);
  UnfusedAttention unfused(len, kHeads, kHeadDim, f32.args.scale);
  const int64_t stride = int64_t{len} * kHeads * kHeadDim;
  auto run_unfused = [&] {
    for (int b = 0; b < batch; ++b) {
      unfused.Run(f32.q.data() + b * stride, f32.k.data() + b * stride,
                  f32.v.data() + b * stride, f32.out.data() + b * stride);
    }
  };
  run_unfused();
  state.counters["vs_onednn_unfused"] = TimePerCall(reps, run_unfused) / fused;
  if constexpr (std::is_same_v<T, bf16>) {
    f32.Run();
    state.counters["vs_f32_fused"] = TimePerCall(reps, [&] { f32.Run(); }) / fused;
  } else if (batch == 1 && len <= 512) {
    const cpu::Isa isa = cpu::ActiveIsa();
    if (!cpu::SetActiveIsaForTesting(cpu::Isa::kGeneric).ok()) std::abort();
    state.counters["vs_generic"] = TimePerCall(2, [&] { c.Run(); }) / fused;
    if (!cpu::SetActiveIsaForTesting(isa).ok()) std::abort();
  }
}

// One query per sequence over a 512-token head-major cache. The caches of
// successive iterations are distinct and together far exceed the last-level
// cache, so every byte comes from DRAM as in real decoding.
template <typename T>
void BM_DecodeAttention(benchmark::State& state) {
  const int batch = state.range(0);
  const int cache_len = 512;
  const size_t per_sequence = size_t{kHeads} * cache_len * kHeadDim;
  const size_t bytes_per_call = 2 * per_sequence * sizeof(T) * batch;
  const int rotations = std::max<int>(2, (256 << 20) / bytes_per_call);
  std::vector<std::vector<T>> k_pool, v_pool;
  std::vector<std::vector<kernels::KvSequence<T>>> kv(rotations);
  for (int r = 0; r < rotations; ++r) {
    k_pool.push_back(RandomVector<T>(per_sequence * batch, 2 * r));
    v_pool.push_back(RandomVector<T>(per_sequence * batch, 2 * r + 1));
    for (int b = 0; b < batch; ++b) {
      kv[r].push_back({k_pool[r].data() + b * per_sequence,
                       v_pool[r].data() + b * per_sequence, int64_t{cache_len} * kHeadDim,
                       cache_len});
    }
  }
  const std::vector<T> q = RandomVector<T>(size_t(batch) * kHeads * kHeadDim, 7);
  std::vector<float> out(q.size());
  kernels::DecodeAttentionArgs<T> args;
  args.q = q.data();
  args.q_row_stride = args.out_row_stride = kHeads * kHeadDim;
  args.out = out.data();
  args.num_heads = kHeads;
  args.head_dim = kHeadDim;
  args.scale = 0.125f;
  int r = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    args.kv = kv[r];
    r = (r + 1) % rotations;
    if (!kernels::DecodeAttention(args).ok()) std::abort();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
      state.iterations();
  const double gbs = bytes_per_call / seconds / 1e9;
  state.counters["GBps"] = gbs;
  state.counters["bandwidth_fraction"] = gbs / g_copy_gbs;
}

// Linear layers at decode shapes, weights streamed from DRAM: enough distinct
// layers are cycled through that they never stay in the caches.
void BM_Linear(benchmark::State& state) {
  const auto type = static_cast<ops::ComputeType>(state.range(0));
  const int64_t m = state.range(1), k = 512, n = 2048;
  if (const ops::ComputeTypeChoice choice = ops::ChooseComputeType(type);
      choice.used != type) {
    state.SkipWithError(choice.detail.c_str());
    return;
  }
  const std::vector<float> w = RandomVector<float>(size_t(n) * k, 11);
  const std::vector<float> bias = RandomVector<float>(n, 12);
  std::vector<std::unique_ptr<ops::Linear>> layers;
  int64_t weight_bytes = 0;
  while (weight_bytes < (int64_t{192} << 20)) {
    auto layer =
        ops::Linear::Create({w.data(), bias.data(), n, k}, type, ops::Activation::kNone);
    if (!layer.ok()) {
      state.SkipWithError(std::string(layer.status().message()).c_str());
      return;
    }
    weight_bytes += (*layer)->weight_bytes();
    layers.push_back(std::move(*layer));
  }
  const std::vector<float> x = RandomVector<float>(size_t(m) * k, 13);
  std::vector<float> y(size_t(m) * n);
  for (auto& layer : layers) (void)layer->Forward(x.data(), m, y.data());
  size_t i = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (!layers[i]->Forward(x.data(), m, y.data()).ok()) std::abort();
    i = (i + 1) % layers.size();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
      state.iterations();
  const double flops = 2.0 * m * k * n;
  const double bytes = layers[0]->weight_bytes() + 4.0 * m * (k + n);
  // Peak rate per compute type: vdpbf16ps does 2x the work of vfmadd231ps per
  // instruction; int8's peak is measured at this level (vpdpbusd with VNNI,
  // vpmaddubsw + vpmaddwd + vpaddd without).
  const double peak = type == ops::ComputeType::kFloat32    ? g_fma_peak_gflops
                      : type == ops::ComputeType::kBFloat16 ? 2.0 * g_fma_peak_gflops
                                                            : g_int8_peak_gops;
  // The weights stream in once per call, at the measured read bandwidth.
  const double roofline = std::min(peak, flops / bytes * g_read_gbs);
  state.counters["GFLOPs"] = flops / seconds / 1e9;
  state.counters["roofline_GFLOPs"] = roofline;
  state.counters["roofline_fraction"] = flops / seconds / 1e9 / roofline;
  state.SetLabel(std::string(ops::ComputeTypeName(type)));
}

BENCHMARK(BM_FusedAttention<float>)
    ->ArgNames({"len", "batch"})
    ->ArgsProduct({{128, 512, 2048}, {1, 8}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_FusedAttention<bf16>)
    ->ArgNames({"len", "batch"})
    ->ArgsProduct({{128, 512, 2048}, {1, 8}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_DecodeAttention<float>)->ArgName("batch")->Arg(1)->Arg(32)->UseRealTime();
BENCHMARK(BM_DecodeAttention<bf16>)->ArgName("batch")->Arg(1)->Arg(32)->UseRealTime();
BENCHMARK(BM_Linear)
    ->ArgNames({"type", "m"})
    ->ArgsProduct({{0, 1, 2}, {1, 4, 8, 16, 32}})
    ->UseRealTime();

}  // namespace
}  // namespace heed::bench

int main(int argc, char** argv) {
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) threads = std::atoi(argv[i] + 10);
    if (std::strncmp(argv[i], "--isa=", 6) == 0) setenv("HEED_ISA", argv[i] + 6, 1);
  }
  if (absl::StatusOr<heed::cpu::Isa> isa = heed::cpu::IsaFromEnvironment(); !isa.ok()) {
    std::fprintf(stderr, "heed-bench-kernels: %s\n", isa.status().ToString().c_str());
    return 2;
  }
  heed::cpu::SetComputeThreads(threads);
  heed::bench::g_fma_peak_gflops = heed::bench::MeasureFmaPeakGflops();
  heed::bench::g_int8_peak_gops = heed::bench::MeasureInt8PeakGops();
  heed::bench::g_copy_gbs = heed::bench::MeasureCopyBandwidthGbs();
  heed::bench::g_read_gbs = heed::bench::MeasureReadBandwidthGbs();
  benchmark::AddCustomContext("threads", std::to_string(threads));
  benchmark::AddCustomContext("isa",
                              std::string(heed::cpu::IsaName(heed::cpu::ActiveIsa())));
  // What the oneDNN baselines (and Linear's oneDNN paths) run: heed's level
  // caps oneDNN, and the best level leaves it uncapped.
  const std::string onednn_isa = heed::ops::OneDnnIsaName();
  benchmark::AddCustomContext("onednn_isa", onednn_isa);
  benchmark::AddCustomContext("fma_peak_gflops",
                              std::to_string(heed::bench::g_fma_peak_gflops));
  benchmark::AddCustomContext("int8_peak_gops",
                              std::to_string(heed::bench::g_int8_peak_gops));
  benchmark::AddCustomContext("copy_bandwidth_gbs",
                              std::to_string(heed::bench::g_copy_gbs));
  benchmark::AddCustomContext("read_bandwidth_gbs",
                              std::to_string(heed::bench::g_read_gbs));
  std::fprintf(
      stderr,
      "threads=%d isa=%s onednn_isa=%s fma_peak=%.1f GFLOP/s copy=%.1f GB/s read=%.1f "
      "GB/s\n",
      threads, std::string(heed::cpu::IsaName(heed::cpu::ActiveIsa())).c_str(),
      onednn_isa.c_str(), heed::bench::g_fma_peak_gflops, heed::bench::g_copy_gbs,
      heed::bench::g_read_gbs);
  // --isa and --threads are this program's; Google Benchmark rejects them.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--isa=", 6) != 0 &&
        std::strncmp(argv[i], "--threads=", 10) != 0)
      argv[kept++] = argv[i];
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
