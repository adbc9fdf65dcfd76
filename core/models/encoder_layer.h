// One post-layer-norm transformer encoder block, shared by Marian, BART, BERT
// and DistilBERT, which differ only in weight names:
//   x = LN1(x + Out(Attention(QKV(x))));  x = LN2(x + FC2(act(FC1(x))))
// Sequences are packed without padding (variable lengths through offsets).
#ifndef HEED_CORE_MODELS_ENCODER_LAYER_H_
#define HEED_CORE_MODELS_ENCODER_LAYER_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/models/weights.h"

namespace heed::models {

// Checkpoint names of one block's tensors (prefixes ending in ".").
struct EncoderLayerNames {
  std::string q, k, v, out, attention_norm, fc1, fc2, output_norm;
};

class EncoderLayer {
 public:
  static absl::StatusOr<EncoderLayer> Load(const WeightLoader& loader,
                                           const EncoderLayerNames& names, int d_model,
                                           int heads, int ffn_dim,
                                           ops::Activation activation, float eps);

  // Buffers a forward pass reuses across layers, sized for `tokens` rows. A
  // DistilBERT-base batch of 4,096 tokens needs 113 MB: allocated anew in
  // every layer, zeroing them and faulting their pages in took half the time.
  struct Scratch {
    Scratch(int64_t tokens, int64_t d_model, int64_t ffn_dim);
    int64_t tokens;
    std::vector<float> qkv, context, projected, hidden;
  };

  // Keeps a scratch between forward passes, from any thread: fresh buffers
  // would be zeroed and their pages faulted in again on every call (a fifth
  // of the time of a 4,096-token DistilBERT-base batch). It keeps the largest
  // it was given up to kMaxCachedTokens rows, so one huge request does not
  // pin its memory for the life of the model.
  class ScratchCache {
   public:
    static constexpr int64_t kMaxCachedTokens = 4096;
    // A cached scratch of at least `tokens` rows, or a new one.
    std::unique_ptr<Scratch> Take(int64_t tokens, int64_t d_model, int64_t ffn_dim);
    void GiveBack(std::unique_ptr<Scratch> scratch);

   private:
    absl::Mutex mu_;
    std::unique_ptr<Scratch> cached_ ABSL_GUARDED_BY(mu_);
  };

  // x: [tokens][d_model], updated in place. `offsets` delimits the sequences;
  // `scratch` holds at least offsets.back() rows. If `first_token_attention`
  // is given it receives, per sequence, how much the first token attended to
  // each token (averaged over heads), concatenated: offsets.back() values.
  absl::Status Forward(float* x, std::span<const int32_t> offsets, Scratch& scratch,
                       std::vector<float>* first_token_attention = nullptr) const;

  // x through each of `layers` in turn (a whole encoder), all of them on one
  // scratch from `cache`, which gets it back after a successful pass. If
  // `last_layer_attention` is given it receives the last layer's
  // first_token_attention.
  static absl::Status ForwardStack(std::span<const EncoderLayer> layers, float* x,
                                   std::span<const int32_t> offsets, ScratchCache& cache,
                                   std::vector<float>* last_layer_attention = nullptr);

 private:
  int d_model_ = 0, heads_ = 0, ffn_dim_ = 0;
  std::unique_ptr<ops::Linear> qkv_, out_, fc1_, fc2_;
  LayerNormWeights attention_norm_, output_norm_;
};

}  // namespace heed::models

#endif  // HEED_CORE_MODELS_ENCODER_LAYER_H_
