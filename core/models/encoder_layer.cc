#include "core/models/encoder_layer.h"

#include <cmath>
#include <vector>

#include "core/kernels/attention.h"
#include "core/kernels/elementwise.h"

namespace heed::models {

absl::StatusOr<EncoderLayer> EncoderLayer::Load(const WeightLoader& loader,
                                                const EncoderLayerNames& names,
                                                int d_model, int heads, int ffn_dim,
                                                ops::Activation activation, float eps) {
  EncoderLayer layer;
  layer.d_model_ = d_model;
  layer.heads_ = heads;
  layer.ffn_dim_ = ffn_dim;
  auto qkv = loader.FusedLinear({names.q, names.k, names.v}, d_model, d_model);
  if (!qkv.ok()) return qkv.status();
  layer.qkv_ = std::move(*qkv);
  auto out = loader.Linear(names.out, d_model, d_model, ops::Activation::kNone);
  if (!out.ok()) return out.status();
  layer.out_ = std::move(*out);
  auto fc1 = loader.Linear(names.fc1, ffn_dim, d_model, activation);
  if (!fc1.ok()) return fc1.status();
  layer.fc1_ = std::move(*fc1);
  auto fc2 = loader.Linear(names.fc2, d_model, ffn_dim, ops::Activation::kNone);
  if (!fc2.ok()) return fc2.status();
  layer.fc2_ = std::move(*fc2);
  auto norm1 = loader.Norm(names.attention_norm, d_model, eps);
  if (!norm1.ok()) return norm1.status();
  layer.attention_norm_ = std::move(*norm1);
  auto norm2 = loader.Norm(names.output_norm, d_model, eps);
  if (!norm2.ok()) return norm2.status();
  layer.output_norm_ = std::move(*norm2);
  return layer;
}

EncoderLayer::Scratch::Scratch(int64_t tokens, int64_t d_model, int64_t ffn_dim)
    : tokens(tokens),
      qkv(tokens * 3 * d_model),
      context(tokens * d_model),
      projected(tokens * d_model),
      hidden(tokens * ffn_dim) {}

std::unique_ptr<EncoderLayer::Scratch> EncoderLayer::ScratchCache::Take(int64_t tokens,
                                                                        int64_t d_model,
                                                                        int64_t ffn_dim) {
  {
    absl::MutexLock lock(&mu_);
    if (cached_ != nullptr && cached_->tokens >= tokens) return std::move(cached_);
  }
  return std::make_unique<Scratch>(tokens, d_model, ffn_dim);
}

void EncoderLayer::ScratchCache::GiveBack(std::unique_ptr<Scratch> scratch) {
  if (scratch->tokens > kMaxCachedTokens) return;
  absl::MutexLock lock(&mu_);
  if (cached_ == nullptr || cached_->tokens < scratch->tokens)
    cached_ = std::move(scratch);
}

absl::Status EncoderLayer::ForwardStack(std::span<const EncoderLayer> layers, float* x,
                                        std::span<const int32_t> offsets,
                                        ScratchCache& cache,
                                        std::vector<float>* last_layer_attention) {
  if (layers.empty()) return absl::OkStatus();
  std::unique_ptr<Scratch> scratch =
      cache.Take(offsets.back(), layers.front().d_model_, layers.front().ffn_dim_);
  for (size_t l = 0; l < layers.size(); ++l) {
    const bool last = l + 1 == layers.size();
    if (absl::Status s = layers[l].Forward(x, offsets, *scratch,
                                           last ? last_layer_attention : nullptr);
        !s.ok()) {
      return s;
    }
  }
  cache.GiveBack(std::move(scratch));
  return absl::OkStatus();
}

absl::Status EncoderLayer::Forward(float* x, std::span<const int32_t> offsets,
                                   Scratch& scratch,
                                   std::vector<float>* first_token_attention) const {
  const int64_t tokens = offsets.back();
  const int64_t d = d_model_;
  float* qkv = scratch.qkv.data();
  float* context = scratch.context.data();
  float* projected = scratch.projected.data();
  float* hidden = scratch.hidden.data();
  if (absl::Status s = qkv_->Forward(x, tokens, qkv); !s.ok()) return s;
  kernels::AttentionArgs<float> args;
  args.q = qkv;
  args.k = qkv + d;
  args.v = qkv + 2 * d;
  args.q_row_stride = args.k_row_stride = args.v_row_stride = 3 * d;
  args.out = context;
  args.out_row_stride = d;
  args.q_offsets = args.k_offsets = offsets;
  args.num_heads = heads_;
  args.head_dim = d_model_ / heads_;
  args.scale = 1.0f / std::sqrt(static_cast<float>(args.head_dim));
  std::vector<float> probs;  // [sequence][heads][lq][lk], only when asked for
  if (first_token_attention != nullptr) {
    probs.resize(kernels::AttentionProbsSize(offsets, offsets, heads_));
    args.probs = probs.data();
  }
  if (absl::Status s = kernels::Attention(args); !s.ok()) return s;
  if (first_token_attention != nullptr) {
    first_token_attention->assign(tokens, 0.0f);
    const float* p = probs.data();
    for (size_t b = 0; b + 1 < offsets.size(); ++b) {
      const int64_t length = offsets[b + 1] - offsets[b];
      for (int h = 0; h < heads_; ++h, p += length * length) {
        for (int64_t t = 0; t < length; ++t) {
          (*first_token_attention)[offsets[b] + t] += p[t] / heads_;  // row 0
        }
      }
    }
  }
  if (absl::Status s = out_->Forward(context, tokens, projected); !s.ok()) return s;
  kernels::AddInPlace(x, projected, tokens * d);
  attention_norm_.Apply(x, x, tokens);
  if (absl::Status s = fc1_->Forward(x, tokens, hidden); !s.ok()) return s;
  if (absl::Status s = fc2_->Forward(hidden, tokens, projected); !s.ok()) return s;
  kernels::AddInPlace(x, projected, tokens * d);
  output_norm_.Apply(x, x, tokens);
  return absl::OkStatus();
}

}  // namespace heed::models
