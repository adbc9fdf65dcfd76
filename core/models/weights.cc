#include "core/models/weights.h"

#include <atomic>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/cpu/cpu_features.h"
#include "core/kernels/elementwise.h"

namespace heed::models {

void LayerNormWeights::Apply(const float* x, float* y, int64_t rows) const {
  kernels::LayerNorm(x, y, rows, gamma.dim(0), gamma.data<float>(), beta.data<float>(),
                     eps);
}

absl::StatusOr<Tensor> WeightLoader::Load(const std::string& name,
                                          const Shape& shape) const {
  return checkpoint_->LoadF32(name, shape);
}

namespace {
std::atomic<bool> bf16_attention_enabled{true};
}  // namespace

void EnableBf16Attention(bool enabled) { bf16_attention_enabled = enabled; }

DType WeightLoader::attention_dtype() const {
  const bool bf16 = compute_type_ == ops::ComputeType::kBFloat16 &&
                    cpu::ActiveIsaHasBf16() && bf16_attention_enabled;
  return bf16 ? DType::kBF16 : DType::kF32;
}

absl::StatusOr<std::unique_ptr<ops::Linear>> WeightLoader::Linear(
    const std::string& prefix, int64_t out, int64_t in, ops::Activation act) const {
  absl::StatusOr<Tensor> weight = Load(prefix + "weight", {out, in});
  if (!weight.ok()) return weight.status();
  absl::StatusOr<Tensor> bias = Load(prefix + "bias", {out});
  if (!bias.ok()) return bias.status();
  return ops::Linear::Create({weight->data<float>(), bias->data<float>(), out, in},
                             compute_type_, act);
}

absl::StatusOr<std::unique_ptr<ops::Linear>> WeightLoader::FusedLinear(
    const std::vector<std::string>& prefixes, int64_t out_each, int64_t in) const {
  const int64_t parts = static_cast<int64_t>(prefixes.size());
  Tensor weight(DType::kF32, {parts * out_each, in});
  Tensor bias(DType::kF32, {parts * out_each});
  for (int64_t i = 0; i < parts; ++i) {
    absl::StatusOr<Tensor> w = Load(prefixes[i] + "weight", {out_each, in});
    if (!w.ok()) return w.status();
    absl::StatusOr<Tensor> b = Load(prefixes[i] + "bias", {out_each});
    if (!b.ok()) return b.status();
    std::memcpy(weight.data<float>() + i * out_each * in, w->data<float>(),
                w->size_bytes());
    std::memcpy(bias.data<float>() + i * out_each, b->data<float>(), b->size_bytes());
  }
  return LinearFrom(weight, &bias);
}

absl::StatusOr<std::unique_ptr<ops::Linear>> WeightLoader::LinearFrom(
    const Tensor& weight, const Tensor* bias) const {
  return ops::Linear::Create(
      {weight.data<float>(), bias != nullptr ? bias->data<float>() : nullptr,
       weight.dim(0), weight.dim(1)},
      compute_type_, ops::Activation::kNone);
}

absl::StatusOr<LayerNormWeights> WeightLoader::Norm(const std::string& prefix, int64_t n,
                                                    float eps) const {
  LayerNormWeights norm;
  absl::StatusOr<Tensor> gamma = Load(prefix + "weight", {n});
  if (!gamma.ok()) return gamma.status();
  absl::StatusOr<Tensor> beta = Load(prefix + "bias", {n});
  if (!beta.ok()) return beta.status();
  norm.gamma = std::move(*gamma);
  norm.beta = std::move(*beta);
  norm.eps = eps;
  return norm;
}

absl::StatusOr<ops::Activation> ActivationFromName(const std::string& name) {
  if (name == "gelu") return ops::Activation::kGeluErf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh")
    return ops::Activation::kGeluTanh;
  if (name == "relu") return ops::Activation::kRelu;
  if (name == "swish" || name == "silu") return ops::Activation::kSwish;
  return absl::UnimplementedError(
      absl::StrCat("activation \"", name, "\" is not supported"));
}

}  // namespace heed::models
