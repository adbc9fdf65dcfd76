#include "core/models/decoder_layer.h"

#include <cmath>
#include <type_traits>

#include "core/kernels/attention.h"
#include "core/kernels/elementwise.h"

namespace heed::models {

absl::StatusOr<DecoderLayer> DecoderLayer::Load(const WeightLoader& loader,
                                                const std::string& prefix, int d_model,
                                                int heads, int ffn_dim,
                                                ops::Activation activation, float eps) {
  DecoderLayer layer;
  layer.d_model_ = d_model;
  layer.heads_ = heads;
  layer.ffn_dim_ = ffn_dim;
  layer.attention_dtype_ = loader.attention_dtype();
  const int64_t d = d_model, f = ffn_dim;
  auto assign = [](auto& field, auto result) -> absl::Status {
    if (!result.ok()) return result.status();
    field = std::move(*result);
    return absl::OkStatus();
  };
  const std::string s = prefix + "self_attn.", c = prefix + "encoder_attn.";
  for (absl::Status status :
       {assign(layer.self_qkv_,
               loader.FusedLinear({s + "q_proj.", s + "k_proj.", s + "v_proj."}, d, d)),
        assign(layer.self_out_,
               loader.Linear(s + "out_proj.", d, d, ops::Activation::kNone)),
        assign(layer.cross_q_,
               loader.Linear(c + "q_proj.", d, d, ops::Activation::kNone)),
        assign(layer.cross_kv_, loader.FusedLinear({c + "k_proj.", c + "v_proj."}, d, d)),
        assign(layer.cross_out_,
               loader.Linear(c + "out_proj.", d, d, ops::Activation::kNone)),
        assign(layer.fc1_, loader.Linear(prefix + "fc1.", f, d, activation)),
        assign(layer.fc2_, loader.Linear(prefix + "fc2.", d, f, ops::Activation::kNone)),
        assign(layer.self_norm_, loader.Norm(prefix + "self_attn_layer_norm.", d, eps)),
        assign(layer.cross_norm_,
               loader.Norm(prefix + "encoder_attn_layer_norm.", d, eps)),
        assign(layer.output_norm_, loader.Norm(prefix + "final_layer_norm.", d, eps))}) {
    if (!status.ok()) return status;
  }
  return layer;
}

absl::StatusOr<std::vector<KvCache>> DecoderLayer::CrossKeysValues(
    const float* hidden, std::span<const int32_t> offsets) const {
  const int64_t d = d_model_;
  const int64_t tokens = offsets.back();
  std::vector<float> kv(tokens * 2 * d);
  if (absl::Status s = cross_kv_->Forward(hidden, tokens, kv.data()); !s.ok()) return s;
  std::vector<KvCache> caches;
  for (size_t b = 0; b + 1 < offsets.size(); ++b) {
    KvCache cache(heads_, static_cast<int>(d / heads_), attention_dtype_);
    const float* rows = kv.data() + offsets[b] * 2 * d;
    cache.Append(rows, rows + d, offsets[b + 1] - offsets[b], 2 * d);
    caches.push_back(std::move(cache));
  }
  return caches;
}

DecoderLayer::Scratch::Scratch(int64_t batch, int64_t d_model, int64_t ffn_dim)
    : qkv(batch * 3 * d_model),
      context(batch * d_model),
      projected(batch * d_model),
      hidden(batch * ffn_dim) {}

template <typename Cache>
absl::Status DecoderLayer::Attend(const float* q, int64_t q_stride,
                                  std::span<Cache* const> caches, Scratch& scratch,
                                  float* probs) const {
  const int64_t batch = static_cast<int64_t>(caches.size());
  const int64_t d = d_model_;
  auto run = [&](auto* typed_q, int64_t typed_stride, auto& views) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(typed_q)>>;
    views.resize(batch);
    for (int64_t b = 0; b < batch; ++b) views[b] = caches[b]->template View<T>();
    kernels::DecodeAttentionArgs<T> args;
    args.q = typed_q;
    args.q_row_stride = typed_stride;
    args.out = scratch.context.data();
    args.out_row_stride = d;
    args.kv = views;
    args.num_heads = heads_;
    args.head_dim = static_cast<int>(d / heads_);
    args.scale = 1.0f / std::sqrt(static_cast<float>(args.head_dim));
    args.probs = probs;
    return kernels::DecodeAttention(args);
  };
  if (attention_dtype_ == DType::kF32) return run(q, q_stride, scratch.views);
  scratch.queries_bf16.resize(batch * d);
  for (int64_t b = 0; b < batch; ++b) {
    kernels::ConvertToBf16(q + b * q_stride, scratch.queries_bf16.data() + b * d, d);
  }
  const bf16* queries = scratch.queries_bf16.data();
  return run(queries, d, scratch.views_bf16);
}

absl::Status DecoderLayer::Step(float* x, std::span<KvCache* const> self_caches,
                                std::span<const KvCache* const> cross_caches,
                                Scratch& scratch, std::vector<float>* cross_probs) const {
  const int64_t batch = static_cast<int64_t>(self_caches.size());
  const int64_t d = d_model_;

  // Causal self-attention: the new token's keys and values join the cache,
  // and its query sees everything cached.
  if (absl::Status s = self_qkv_->Forward(x, batch, scratch.qkv.data()); !s.ok())
    return s;
  for (int64_t b = 0; b < batch; ++b) {
    const float* row = scratch.qkv.data() + b * 3 * d;
    self_caches[b]->Append(row + d, row + 2 * d, 1, 3 * d);
  }
  if (absl::Status s = Attend(scratch.qkv.data(), 3 * d, self_caches, scratch, nullptr);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          self_out_->Forward(scratch.context.data(), batch, scratch.projected.data());
      !s.ok()) {
    return s;
  }
  kernels::AddInPlace(x, scratch.projected.data(), batch * d);
  self_norm_.Apply(x, x, batch);

  // Cross-attention over the encoder's keys and values.
  if (absl::Status s = cross_q_->Forward(x, batch, scratch.qkv.data()); !s.ok()) return s;
  float* probs = nullptr;
  if (cross_probs != nullptr) {
    int64_t total = 0;
    for (int64_t b = 0; b < batch; ++b)
      total += int64_t{heads_} * cross_caches[b]->length();
    cross_probs->resize(total);
    probs = cross_probs->data();
  }
  if (absl::Status s = Attend(scratch.qkv.data(), d, cross_caches, scratch, probs);
      !s.ok())
    return s;
  if (absl::Status s =
          cross_out_->Forward(scratch.context.data(), batch, scratch.projected.data());
      !s.ok()) {
    return s;
  }
  kernels::AddInPlace(x, scratch.projected.data(), batch * d);
  cross_norm_.Apply(x, x, batch);

  // Feed-forward.
  if (absl::Status s = fc1_->Forward(x, batch, scratch.hidden.data()); !s.ok()) return s;
  if (absl::Status s =
          fc2_->Forward(scratch.hidden.data(), batch, scratch.projected.data());
      !s.ok()) {
    return s;
  }
  kernels::AddInPlace(x, scratch.projected.data(), batch * d);
  output_norm_.Apply(x, x, batch);
  return absl::OkStatus();
}

}  // namespace heed::models
