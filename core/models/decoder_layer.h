// One post-layer-norm transformer decoder block of Marian and BART, for
// step-wise decoding (one new token per sequence per step):
//   x = LN1(x + SelfOut(Attention(Q(x), K/V cache + new token)))
//   x = LN2(x + CrossOut(Attention(CrossQ(x), encoder K/V)))
//   x = LN3(x + FC2(act(FC1(x))))
// The sequences of a step may be at different positions: each brings its own
// self-attention cache and its encoder output's cross-attention cache.
#ifndef HEED_CORE_MODELS_DECODER_LAYER_H_
#define HEED_CORE_MODELS_DECODER_LAYER_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/kernels/attention.h"
#include "core/models/kv_cache.h"
#include "core/models/weights.h"

namespace heed::models {

class DecoderLayer {
 public:
  // Hugging Face names under `prefix` (e.g. "model.decoder.layers.0."):
  // self_attn.{q,k,v,out}_proj, encoder_attn.{q,k,v,out}_proj, fc1, fc2 and
  // the three layer norms.
  static absl::StatusOr<DecoderLayer> Load(const WeightLoader& loader,
                                           const std::string& prefix, int d_model,
                                           int heads, int ffn_dim,
                                           ops::Activation activation, float eps);

  // The cross-attention keys and values of encoder hidden states,
  // [tokens][d_model] for sequences back to back (`offsets` delimits them),
  // one cache per sequence; computed once per request.
  absl::StatusOr<std::vector<KvCache>> CrossKeysValues(
      const float* hidden, std::span<const int32_t> offsets) const;

  // Buffers one decoding step reuses across layers, sized for `batch` rows.
  struct Scratch {
    Scratch(int64_t batch, int64_t d_model, int64_t ffn_dim);
    std::vector<float> qkv, context, projected, hidden;
    std::vector<kernels::KvSequence<float>> views;
    // For bf16 attention: the queries rounded to bf16, and the caches' views.
    std::vector<bf16> queries_bf16;
    std::vector<kernels::KvSequence<bf16>> views_bf16;
  };

  // One step of x [batch][d_model], in place. Row b's new keys and values are
  // appended to self_caches[b]; it attends to cross_caches[b]. With
  // `cross_probs`, receives the cross-attention probabilities
  // [batch][heads][cross length b], sequences in order.
  absl::Status Step(float* x, std::span<KvCache* const> self_caches,
                    std::span<const KvCache* const> cross_caches, Scratch& scratch,
                    std::vector<float>* cross_probs = nullptr) const;

  int heads() const { return heads_; }
  // The element type of this layer's KV caches (WeightLoader::attention_dtype).
  DType attention_dtype() const { return attention_dtype_; }

 private:
  // Decode attention of query rows `q` (row stride q_stride) over caches[b],
  // into scratch.context, in this layer's attention type.
  template <typename Cache>  // KvCache or const KvCache
  absl::Status Attend(const float* q, int64_t q_stride, std::span<Cache* const> caches,
                      Scratch& scratch, float* probs) const;

  int d_model_ = 0, heads_ = 0, ffn_dim_ = 0;
  DType attention_dtype_ = DType::kF32;
  std::unique_ptr<ops::Linear> self_qkv_, self_out_, cross_q_, cross_kv_, cross_out_,
      fc1_, fc2_;
  LayerNormWeights self_norm_, cross_norm_, output_norm_;
};

}  // namespace heed::models

#endif  // HEED_CORE_MODELS_DECODER_LAYER_H_
