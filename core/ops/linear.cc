#include "core/ops/linear.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/cpu/cpu_features.h"
#include "core/kernels/elementwise.h"
#include "core/kernels/int8_matmul.h"
#include "core/ops/onednn_engine.h"
#include "core/tensor/aligned_buffer.h"
#include "core/tensor/dtype.h"

namespace heed::ops {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// Rows of the primitive that picks the weights' layout; every other row count
// is created with the same layout, so the weights are converted only once.
constexpr int64_t kLayoutRows = 32;

dt ComputeDataType(ComputeType type) {
  switch (type) {
    case ComputeType::kFloat32:
      return dt::f32;
    case ComputeType::kBFloat16:
      return dt::bf16;
    case ComputeType::kInt8:
      return dt::s8;
  }
  return dt::f32;
}

// int8 activations go in as u8 = s8 + 128: x86's VNNI instruction multiplies
// u8 by s8, and oneDNN's fast int8 kernels expect that pairing.
dt SourceDataType(ComputeType type) {
  return type == ComputeType::kInt8 ? dt::u8 : ComputeDataType(type);
}

// alpha is swish's slope (1 for SiLU) and ignored by the others.
float ActivationAlphaOf(Activation activation) {
  return activation == Activation::kSwish ? 1.0f : 0.0f;
}

dnnl::algorithm EltwiseAlgorithm(Activation activation) {
  switch (activation) {
    case Activation::kRelu:
      return dnnl::algorithm::eltwise_relu;
    case Activation::kGeluErf:
      return dnnl::algorithm::eltwise_gelu_erf;
    case Activation::kGeluTanh:
      return dnnl::algorithm::eltwise_gelu_tanh;
    case Activation::kSwish:  // x sigmoid(alpha x) with alpha 1: SiLU
      return dnnl::algorithm::eltwise_swish;
    case Activation::kNone:
      break;
  }
  return dnnl::algorithm::undef;
}

// Per-thread staging of converted activations, reused across calls.
struct Staging {
  std::vector<bf16> bf16_src;
  std::vector<uint8_t> u8_src;
  std::vector<float> row_scales;
  std::vector<int32_t> sums;
  AlignedBuffer scratchpad;
};
thread_local Staging t_staging;

// Every primitive takes its scratchpad from the calling thread (the Staging
// above). With oneDNN's library scratchpad, two threads running layers at
// once (two models' runners, or a runner and a direct Generate) corrupted
// each other's products at the AVX-512 levels, where the brgemm kernels use
// it: it was shared between the calls.
dnnl::primitive_attr UserScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// The calling thread's scratchpad for a primitive made with UserScratchpad().
dnnl::memory ScratchpadFor(const dnnl::memory::desc& md, Staging& staging) {
  staging.scratchpad.Reserve(md.get_size());
  return dnnl::memory(md, CpuEngine(), staging.scratchpad.data());
}

// Element-wise passes around the matrix product (int8 quantization and
// dequantization, bf16 conversion) run on the compute threads above this many
// elements: serial, they left the other threads waiting for a fifth of an
// int8 decoding step at batch 32 (docs/benchmarks.md); below it, starting
// the threads costs more than the pass.
constexpr int64_t kParallelElements = 1 << 15;

// kernels::Int8Matmul runs on the compute threads from this many
// multiply-adds (a 64 x 64 x 64 product takes about 10 µs on one core).
constexpr int64_t kParallelMultiplyAdds = 1 << 18;

// One scale per row, max |x| / 127, so that a row's result never depends on
// the other rows of the batch; writes x / scale + 128 as u8.
void QuantizeRows(const float* x, int64_t m, int64_t k, uint8_t* out, float* scales) {
#pragma omp parallel for schedule(static) if (m * k >= kParallelElements)
  for (int64_t i = 0; i < m; ++i)
    scales[i] = kernels::QuantizeRowToU8(x + i * k, k, out + i * k);
}

// Contiguous chunks of the compute threads (one per thread).
void ToBf16(const float* x, int64_t n, bf16* y) {
  if (n < kParallelElements) {
    kernels::ConvertToBf16(x, y, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    kernels::ConvertToBf16(x + begin, y + begin, end - begin);
  }
}

// The offset term of index i of dimension `dim` in a oneDNN blocked layout:
// the outer block's stride plus the position inside each inner block of that
// dimension (inner blocks are a row-major array, the last one innermost).
int64_t BlockedOffset(const dnnl_memory_desc_t& md, int dim, int64_t i) {
  const dnnl_blocking_desc_t& blocking = md.format_desc.blocking;
  int64_t block = 1;
  for (int b = 0; b < blocking.inner_nblks; ++b) {
    if (blocking.inner_idxs[b] == dim) block *= blocking.inner_blks[b];
  }
  int64_t offset = (i / block) * blocking.strides[dim];
  int64_t within = 1, inner_stride = 1;
  for (int b = blocking.inner_nblks - 1; b >= 0; --b) {
    if (blocking.inner_idxs[b] == dim) {
      offset += ((i / within) % blocking.inner_blks[b]) * inner_stride;
      within *= blocking.inner_blks[b];
    }
    inner_stride *= blocking.inner_blks[b];
  }
  return offset;
}

}  // namespace

dnnl::matmul::primitive_desc Linear::MakePrimitiveDesc(
    int64_t m, const dnnl::memory::desc& weights_md) const {
  const dnnl::memory::desc src_md({m, in_features_}, SourceDataType(compute_type_),
                                  tag::ab);
  if (compute_type_ == ComputeType::kInt8) {
    // Exact 32-bit sums; the scales, the +128 shift, the bias and the
    // activation are applied per row afterwards (oneDNN 2.6 has no fast kernel
    // with per-row scales among its post-ops).
    const dnnl::memory::desc dst_md({m, out_features_}, dt::s32, tag::ab);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, weights_md, dst_md),
                                        UserScratchpad(), CpuEngine());
  }
  const dnnl::memory::desc dst_md({m, out_features_}, dt::f32, tag::ab);
  const dnnl::memory::desc bias_md({1, out_features_}, dt::f32, tag::ab);
  dnnl::primitive_attr attr = UserScratchpad();
  if (activation_ != Activation::kNone) {
    dnnl::post_ops post_ops;
    post_ops.append_eltwise(1.0f, EltwiseAlgorithm(activation_),
                            ActivationAlphaOf(activation_), 0.0f);
    attr.set_post_ops(post_ops);
  }
  if (bias_) {
    return dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(src_md, weights_md, bias_md, dst_md), attr, CpuEngine());
  }
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, weights_md, dst_md),
                                      attr, CpuEngine());
}

absl::StatusOr<std::unique_ptr<Linear>> Linear::Create(const LinearWeights& w,
                                                       ComputeType compute_type,
                                                       Activation activation) {
  if (w.weight == nullptr || w.in_features <= 0 || w.out_features <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("linear layer needs weights of positive size, got ", w.out_features,
                     " x ", w.in_features));
  }
  if (compute_type == ComputeType::kBFloat16 && !OneDnnHasBf16DotProducts()) {
    return absl::FailedPreconditionError(
        "bfloat16 linear layers need AVX512_BF16 (ISA level avx512_bf16); "
        "ChooseComputeType picks float32 below it");
  }
  std::unique_ptr<Linear> linear(new Linear);
  linear->in_features_ = w.in_features;
  linear->out_features_ = w.out_features;
  linear->compute_type_ = compute_type;
  linear->activation_ = activation;
  const int64_t K = w.in_features, N = w.out_features;

  bool packing_failed = false;
  absl::Status status = OneDnnCall("creating a linear layer", [&] {
    dnnl::engine& engine = CpuEngine();
    if (w.bias != nullptr) {
      linear->bias_ = dnnl::memory({{1, N}, dt::f32, tag::ab}, engine);
      std::memcpy(linear->bias_.get_data_handle(), w.bias, N * sizeof(float));
    }
    // nn.Linear's [N][K] row-major is [K][N] with strides (1, K): tag "ba".
    std::vector<int8_t> quantized;
    dnnl::memory source;
    if (compute_type == ComputeType::kInt8) {
      // 8-bit weights with VNNI, 7-bit ones without (Int8WeightLevels says
      // why); activations keep 8 bits either way: their outliers make them the
      // more precision-hungry operand.
      const float levels = static_cast<float>(Int8WeightLevels());
      linear->weight_levels_ = static_cast<int>(levels);
      quantized.resize(N * K);
      linear->channel_scales_.resize(N);
      linear->shift_compensation_.resize(N);
      for (int64_t n = 0; n < N; ++n) {
        const float* row = w.weight + n * K;
        float max_abs = 0.0f;
        for (int64_t k = 0; k < K; ++k) max_abs = std::max(max_abs, std::abs(row[k]));
        const float scale = max_abs > 0.0f ? max_abs / levels : 1.0f;
        linear->channel_scales_[n] = scale;
        int64_t sum = 0;
        for (int64_t k = 0; k < K; ++k) {
          const float q = std::clamp(std::nearbyint(row[k] / scale), -levels, levels);
          quantized[n * K + k] = static_cast<int8_t>(q);
          sum += quantized[n * K + k];
        }
        linear->shift_compensation_[n] = 128 * static_cast<int32_t>(sum);
      }
      if (Int8UsesHeedProduct()) {
        const int64_t bytes = kernels::Int8PackedBytes(N, K);
        linear->packed_int8_.reset(
            static_cast<int8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)));
        if (linear->packed_int8_) {
          kernels::PackInt8Weights(quantized.data(), N, K, linear->packed_int8_.get());
        } else {
          packing_failed = true;
        }
        return;
      }
      source = dnnl::memory({{K, N}, dt::s8, tag::ba}, engine, quantized.data());
    } else {
      source =
          dnnl::memory({{K, N}, dt::f32, tag::ba}, engine, const_cast<float*>(w.weight));
    }
    const dnnl::memory::desc any_weights({K, N}, ComputeDataType(compute_type), tag::any);
    // The scales must be known first: int8 primitives carry them.
    const auto pd = linear->MakePrimitiveDesc(kLayoutRows, any_weights);

    linear->weights_ = dnnl::memory(pd.weights_desc(), engine);
    dnnl::reorder(source, linear->weights_)
        .execute(ThreadStream(), source, linear->weights_);
    ThreadStream().wait();
    const dnnl_memory_desc_t& md = linear->weights_.get_desc().data;
    if (compute_type == ComputeType::kFloat32 && md.format_kind == dnnl_blocked) {
      linear->in_offsets_.resize(K);
      for (int64_t k = 0; k < K; ++k) linear->in_offsets_[k] = BlockedOffset(md, 0, k);
    }
  });
  if (!status.ok()) return status;
  if (packing_failed) {
    return absl::ResourceExhaustedError(
        absl::StrCat("no memory for the packed int8 weights of a ", w.out_features, " x ",
                     w.in_features, " layer"));
  }
  return linear;
}

absl::StatusOr<const Linear::Primitive*> Linear::PrimitiveFor(int64_t m) const {
  absl::MutexLock lock(&mu_);
  auto it = primitives_.find(m);
  if (it != primitives_.end()) return it->second.get();
  auto primitive = std::make_unique<Primitive>();
  absl::Status status =
      OneDnnCall(absl::StrCat("creating a matmul for ", m, " rows"), [&] {
        if (!packed_int8_) {
          primitive->pd = MakePrimitiveDesc(m, weights_.get_desc());
          primitive->matmul = dnnl::matmul(primitive->pd);
        }
        if (compute_type_ == ComputeType::kInt8 && activation_ != Activation::kNone) {
          const dnnl::memory::desc md({m * out_features_}, dt::f32, tag::a);
          primitive->activation_pd = dnnl::eltwise_forward::primitive_desc(
              dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference,
                                          EltwiseAlgorithm(activation_), md,
                                          ActivationAlphaOf(activation_), 0.0f),
              UserScratchpad(), CpuEngine());
          primitive->activation = dnnl::eltwise_forward(primitive->activation_pd);
        }
      });
  if (!status.ok()) return status;
  const Primitive* result = primitive.get();
  primitives_[m] = std::move(primitive);
  return result;
}

absl::Status Linear::Forward(const float* x, int64_t m, float* y) const {
  for (int64_t row = 0; row < m; row += kMaxRowsPerCall) {
    const int64_t rows = std::min(kMaxRowsPerCall, m - row);
    if (absl::Status s =
            ForwardRows(x + row * in_features_, rows, y + row * out_features_);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Linear::ForwardRows(const float* x, int64_t m, float* y) const {
  absl::StatusOr<const Primitive*> primitive = PrimitiveFor(m);
  if (!primitive.ok()) return primitive.status();
  const Primitive& p = **primitive;
  if (packed_int8_) {
    return OneDnnCall("running a linear layer", [&] {
      ForwardPackedInt8(x, m, y);
      ApplyInt8Activation(p, y);
      ThreadStream().wait();
    });
  }
  return OneDnnCall("running a linear layer", [&] {
    dnnl::engine& engine = CpuEngine();
    const int64_t n_in = m * in_features_;
    void* src_data = const_cast<float*>(x);
    void* dst_data = y;
    Staging& staging = t_staging;
    if (compute_type_ == ComputeType::kBFloat16) {
      staging.bf16_src.resize(n_in);
      ToBf16(x, n_in, staging.bf16_src.data());
      src_data = staging.bf16_src.data();
    } else if (compute_type_ == ComputeType::kInt8) {
      staging.u8_src.resize(n_in);
      staging.row_scales.resize(m);
      QuantizeRows(x, m, in_features_, staging.u8_src.data(), staging.row_scales.data());
      src_data = staging.u8_src.data();
      staging.sums.resize(m * out_features_);
      dst_data = staging.sums.data();
    }
    std::unordered_map<int, dnnl::memory> args;
    if (bias_ && compute_type_ != ComputeType::kInt8) args[DNNL_ARG_BIAS] = bias_;
    args[DNNL_ARG_SRC] = dnnl::memory(p.pd.src_desc(), engine, src_data);
    args[DNNL_ARG_WEIGHTS] = weights_;
    args[DNNL_ARG_DST] = dnnl::memory(p.pd.dst_desc(), engine, dst_data);
    args[DNNL_ARG_SCRATCHPAD] = ScratchpadFor(p.pd.scratchpad_desc(), staging);
    p.matmul.execute(ThreadStream(), args);
    if (compute_type_ == ComputeType::kInt8) {
      DequantizeRows(staging.sums.data(), staging.row_scales.data(), m, y);
      ApplyInt8Activation(p, y);
    }
    ThreadStream().wait();
  });
}

void Linear::ApplyInt8Activation(const Primitive& p, float* y) const {
  if (!p.activation) return;
  const dnnl::memory out(p.activation_pd.dst_desc(), CpuEngine(), y);
  p.activation.execute(ThreadStream(),
                       {{DNNL_ARG_SRC, out},
                        {DNNL_ARG_DST, out},
                        {DNNL_ARG_SCRATCHPAD,
                         ScratchpadFor(p.activation_pd.scratchpad_desc(), t_staging)}});
}

void Linear::DequantizeRows(const int32_t* sums, const float* row_scales, int64_t m,
                            float* y) const {
  // y = x_scale w_scale (Σ (q + 128) w - 128 Σ w) + b
  const float* bias =
      bias_ ? static_cast<const float*>(bias_.get_data_handle()) : nullptr;
  const int64_t n_out = out_features_;
#pragma omp parallel for schedule(static) if (m * n_out >= kParallelElements)
  for (int64_t i = 0; i < m; ++i) {
    kernels::DequantizeRow(sums + i * n_out, shift_compensation_.data(),
                           channel_scales_.data(), bias, row_scales[i], y + i * n_out,
                           n_out);
  }
}

void Linear::ForwardPackedInt8(const float* x, int64_t m, float* y) const {
  const int64_t k = in_features_, depth = kernels::Int8PaddedDepth(k);
  // The staging of the calling thread: the team's threads must not use theirs.
  Staging& staging = t_staging;
  staging.u8_src.resize(m * depth);
  staging.row_scales.resize(m);
  uint8_t* codes = staging.u8_src.data();
  float* row_scales = staging.row_scales.data();
  kernels::Int8MatmulProblem problem;
  problem.a = codes;
  problem.packed_weights = packed_int8_.get();
  problem.m = m;
  problem.n = out_features_;
  problem.k = k;
  problem.row_scales = row_scales;
  problem.compensation = shift_compensation_.data();
  problem.channel_scales = channel_scales_.data();
  problem.bias = bias_ ? static_cast<const float*>(bias_.get_data_handle()) : nullptr;
  problem.y = y;
  problem.full_range_weights = weight_levels_ > 63;
  const int64_t blocks = kernels::Int8Blocks(out_features_);
  const int64_t tiles =
      (blocks + kernels::kInt8TileBlocks - 1) / kernels::kInt8TileBlocks;
#pragma omp parallel if (m * k * out_features_ >= kParallelMultiplyAdds)
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    for (int64_t i = m * t / threads; i < m * (t + 1) / threads; ++i) {
      row_scales[i] = kernels::QuantizeRowToU8(x + i * k, k, codes + i * depth);
      std::fill(codes + i * depth + k, codes + (i + 1) * depth, uint8_t{0});
    }
#pragma omp barrier
    kernels::Int8MatmulProblem part = problem;
    part.block_begin = std::min(blocks, tiles * t / threads * kernels::kInt8TileBlocks);
    part.block_end =
        std::min(blocks, tiles * (t + 1) / threads * kernels::kInt8TileBlocks);
    if (part.block_begin < part.block_end) kernels::Int8Matmul(part);
  }
}

int64_t Linear::OutOffset(int64_t n) const {
  const dnnl_memory_desc_t& md = weights_.get_desc().data;
  return md.offset0 + BlockedOffset(md, 1, n);
}

absl::Status Linear::GatherWeightRows(std::span<const int32_t> rows, float scale,
                                      float* out) const {
  if (!can_gather_weight_rows()) {
    return absl::FailedPreconditionError("the layer's weights cannot be gathered");
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= out_features_) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", rows[i], " at position ", i,
                       " is outside the vocabulary of ", out_features_));
    }
  }
  const float* weights = static_cast<const float*>(weights_.get_data_handle());
  const int64_t k = in_features_;
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* base = weights + OutOffset(rows[i]);
    float* row = out + static_cast<int64_t>(i) * k;
    for (int64_t j = 0; j < k; ++j) row[j] = base[in_offsets_[j]] * scale;
  }
  return absl::OkStatus();
}

int64_t Linear::weight_bytes() const {
  if (packed_int8_) return kernels::Int8PackedBytes(out_features_, in_features_);
  return static_cast<int64_t>(weights_.get_desc().get_size());
}

std::string Linear::ImplementationName(int64_t m) const {
  absl::StatusOr<const Primitive*> primitive = PrimitiveFor(m);
  if (!primitive.ok()) return "unavailable";
  if (packed_int8_) {
    return "heed_int8_matmul:" + std::string(cpu::IsaName(cpu::ActiveIsa()));
  }
  return (*primitive)->pd.impl_info_str();
}

}  // namespace heed::ops
