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

  // x: [tokens][d_model], updated in place. `offsets` delimits the sequences.
  // If `first_token_attention` is given it receives, per sequence, how much
  // the first token attended to each token (averaged over heads),
  // concatenated: offsets.back() values.
  absl::Status Forward(float* x, std::span<const int32_t> offsets,
                       std::vector<float>* first_token_attention = nullptr) const;

 private:
  int d_model_ = 0, heads_ = 0, ffn_dim_ = 0;
  std::unique_ptr<ops::Linear> qkv_, out_, fc1_, fc2_;
  LayerNormWeights attention_norm_, output_norm_;
};

}  // namespace heed::models

#endif  // HEED_CORE_MODELS_ENCODER_LAYER_H_
