#include "core/ops/linear.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/ops/onednn_engine.h"
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
  float x_scale = 1.0f;
  std::vector<float> shift;
};
thread_local Staging t_staging;

// One scale for the whole call: max |x| / 127; writes x / scale + 128 as u8
// and returns the scale.
float QuantizeActivations(const float* x, int64_t n, uint8_t* out) {
  float max_abs = 0.0f;
  for (int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::abs(x[i]));
  const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
  const float inv = 1.0f / scale;
  for (int64_t i = 0; i < n; ++i) {
    out[i] = static_cast<uint8_t>(
        std::clamp(std::nearbyint(x[i] * inv), -127.0f, 127.0f) + 128);
  }
  return scale;
}

}  // namespace

std::string_view ComputeTypeName(ComputeType type) {
  switch (type) {
    case ComputeType::kFloat32:
      return "float32";
    case ComputeType::kBFloat16:
      return "bfloat16";
    case ComputeType::kInt8:
      return "int8";
  }
  return "unknown";
}

absl::StatusOr<ComputeType> ParseComputeType(std::string_view name) {
  for (ComputeType type :
       {ComputeType::kFloat32, ComputeType::kBFloat16, ComputeType::kInt8}) {
    if (name == ComputeTypeName(type)) return type;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compute type \"", std::string(name),
                   "\"; expected float32, bfloat16 or int8"));
}

dnnl::matmul::primitive_desc Linear::MakePrimitiveDesc(
    int64_t m, const dnnl::memory::desc& weights_md) const {
  const dnnl::memory::desc src_md({m, in_features_}, SourceDataType(compute_type_),
                                  tag::ab);
  const dnnl::memory::desc dst_md({m, out_features_}, dt::f32, tag::ab);
  const dnnl::memory::desc bias_md({1, out_features_}, dt::f32, tag::ab);
  dnnl::primitive_attr attr;
  dnnl::post_ops post_ops;
  const bool int8 = compute_type_ == ComputeType::kInt8;
  if (int8) {
    // The per-channel weight scales are fixed; the activations' scale and the
    // bias (minus the +128 shift's contribution) arrive with each call as
    // binary post-ops. (Runtime output scales would also work, but make
    // oneDNN 2.6 fall back from its brgemm VNNI kernels to a slower gemm.)
    const dnnl::memory::desc scalar_md({1, 1}, dt::f32, tag::ab);
    attr.set_output_scales(1 << 1, channel_scales_);
    post_ops.append_binary(dnnl::algorithm::binary_mul, scalar_md);
    post_ops.append_binary(dnnl::algorithm::binary_add, bias_md);
  }
  if (activation_ != Activation::kNone) {
    // alpha is swish's slope (1 for SiLU) and ignored by the others.
    const float alpha = activation_ == Activation::kSwish ? 1.0f : 0.0f;
    post_ops.append_eltwise(1.0f, EltwiseAlgorithm(activation_), alpha, 0.0f);
  }
  attr.set_post_ops(post_ops);
  if (bias_ && !int8) {
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
  std::unique_ptr<Linear> linear(new Linear);
  linear->in_features_ = w.in_features;
  linear->out_features_ = w.out_features;
  linear->compute_type_ = compute_type;
  linear->activation_ = activation;
  const int64_t K = w.in_features, N = w.out_features;

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
      quantized.resize(N * K);
      linear->channel_scales_.resize(N);
      linear->shift_compensation_.resize(N);
      for (int64_t n = 0; n < N; ++n) {
        const float* row = w.weight + n * K;
        float max_abs = 0.0f;
        for (int64_t k = 0; k < K; ++k) max_abs = std::max(max_abs, std::abs(row[k]));
        const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
        linear->channel_scales_[n] = scale;
        int64_t sum = 0;
        for (int64_t k = 0; k < K; ++k) {
          quantized[n * K + k] = static_cast<int8_t>(std::nearbyint(row[k] / scale));
          sum += quantized[n * K + k];
        }
        linear->shift_compensation_[n] = 128.0f * static_cast<float>(sum);
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
  });
  if (!status.ok()) return status;
  return linear;
}

absl::StatusOr<const Linear::Primitive*> Linear::PrimitiveFor(int64_t m) const {
  absl::MutexLock lock(&mu_);
  auto it = primitives_.find(m);
  if (it != primitives_.end()) return it->second.get();
  auto primitive = std::make_unique<Primitive>();
  absl::Status status =
      OneDnnCall(absl::StrCat("creating a matmul for ", m, " rows"), [&] {
        primitive->pd = MakePrimitiveDesc(m, weights_.get_desc());
        primitive->matmul = dnnl::matmul(primitive->pd);
      });
  if (!status.ok()) return status;
  const Primitive* result = primitive.get();
  primitives_[m] = std::move(primitive);
  return result;
}

absl::Status Linear::Forward(const float* x, int64_t m, float* y) const {
  if (m <= 0) return absl::OkStatus();
  absl::StatusOr<const Primitive*> primitive = PrimitiveFor(m);
  if (!primitive.ok()) return primitive.status();
  const Primitive& p = **primitive;
  return OneDnnCall("running a linear layer", [&] {
    dnnl::engine& engine = CpuEngine();
    const int64_t n_in = m * in_features_;
    void* src_data = const_cast<float*>(x);
    std::unordered_map<int, dnnl::memory> args;
    Staging& staging = t_staging;
    if (compute_type_ == ComputeType::kBFloat16) {
      staging.bf16_src.resize(n_in);
      for (int64_t i = 0; i < n_in; ++i) staging.bf16_src[i] = FloatToBf16(x[i]);
      src_data = staging.bf16_src.data();
    } else if (compute_type_ == ComputeType::kInt8) {
      staging.u8_src.resize(n_in);
      const float x_scale = QuantizeActivations(x, n_in, staging.u8_src.data());
      src_data = staging.u8_src.data();
      staging.shift.resize(out_features_);
      const float* bias =
          bias_ ? static_cast<const float*>(bias_.get_data_handle()) : nullptr;
      for (int64_t n = 0; n < out_features_; ++n) {
        // y = x_scale w_scale (Σ (q + 128) w - 128 Σ w) + b
        staging.shift[n] = (bias != nullptr ? bias[n] : 0.0f) -
                           x_scale * channel_scales_[n] * shift_compensation_[n];
      }
      staging.x_scale = x_scale;
      args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] =
          dnnl::memory({{1, 1}, dt::f32, tag::ab}, engine, &staging.x_scale);
      args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1] = dnnl::memory(
          {{1, out_features_}, dt::f32, tag::ab}, engine, staging.shift.data());
    }
    if (bias_ && compute_type_ != ComputeType::kInt8) args[DNNL_ARG_BIAS] = bias_;
    args[DNNL_ARG_SRC] = dnnl::memory(p.pd.src_desc(), engine, src_data);
    args[DNNL_ARG_WEIGHTS] = weights_;
    args[DNNL_ARG_DST] = dnnl::memory(p.pd.dst_desc(), engine, y);
    p.matmul.execute(ThreadStream(), args);
    ThreadStream().wait();
  });
}

int64_t Linear::weight_bytes() const {
  return static_cast<int64_t>(weights_.get_desc().get_size());
}

std::string Linear::ImplementationName(int64_t m) const {
  absl::StatusOr<const Primitive*> primitive = PrimitiveFor(m);
  if (!primitive.ok()) return "unavailable";
  return (*primitive)->pd.impl_info_str();
}

}  // namespace heed::ops
