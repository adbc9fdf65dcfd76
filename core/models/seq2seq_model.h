// Encoder-decoder translation and summarization models: Marian
// (MarianMTModel: sinusoidal positions, embeddings scaled by sqrt(d_model))
// and BART (BartForConditionalGeneration: learned positions offset by 2,
// layernorm_embedding), both post-layer-norm with final_logits_bias and the
// output projection tied to the shared embeddings.
//
// Decoding is step-wise so that a scheduler can batch sequences that started
// at different times: each DecoderState owns its self-attention caches and
// points at its encoder output, whose cross-attention keys and values are
// computed once per request.
#ifndef HEED_CORE_MODELS_SEQ2SEQ_MODEL_H_
#define HEED_CORE_MODELS_SEQ2SEQ_MODEL_H_

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/models/decoder_layer.h"
#include "core/models/encoder_layer.h"
#include "core/models/kv_cache.h"
#include "core/models/weights.h"

namespace heed::models {

class Seq2SeqModel;

// The encoder's result for one input: hidden states and, per decoder layer,
// the cross-attention keys and values.
struct EncoderOutput {
  int length = 0;
  Tensor hidden;  // [length][d_model]
  std::vector<KvCache> cross;
};

class DecoderState {
 public:
  DecoderState() = default;
  DecoderState(DecoderState&&) = default;
  DecoderState& operator=(DecoderState&&) = default;

  int position() const { return position_; }  // tokens fed so far
  // A deep copy of the caches; the encoder output is shared.
  DecoderState Clone() const;

 private:
  friend class Seq2SeqModel;
  std::shared_ptr<const EncoderOutput> encoder_;
  std::vector<KvCache> self_;
  int position_ = 0;
};

class Seq2SeqModel {
 public:
  static absl::StatusOr<std::unique_ptr<Seq2SeqModel>> Load(
      const std::string& model_dir, ops::ComputeType compute_type);

  absl::StatusOr<std::shared_ptr<const EncoderOutput>> Encode(
      std::span<const int32_t> input_ids) const;
  // Encodes several sources in one pass, one output each, equal to encoding
  // each alone: the layers see the sequences back to back without padding
  // (each attends only within itself), so the projections and feed-forward
  // layers run as one matrix product over all their tokens.
  absl::StatusOr<std::vector<std::shared_ptr<const EncoderOutput>>> EncodeBatch(
      std::span<const std::span<const int32_t>> inputs) const;
  // OK if an input of `length` tokens can be encoded; the error Encode gives.
  absl::Status CheckInputLength(int length) const;
  DecoderState StartDecoding(std::shared_ptr<const EncoderOutput> encoder) const;

  // Feeds one token to each state and writes the next-token logits,
  // [states.size()][vocab_size()]. States may be at different positions.
  // If `cross_attention` is given, it receives for each state the last
  // layer's cross-attention (averaged over heads) over that state's source
  // tokens, one row of EncoderOutput::length values per state, concatenated.
  absl::Status Step(std::span<DecoderState* const> states,
                    std::span<const int32_t> tokens, float* logits,
                    std::vector<float>* cross_attention = nullptr) const;

  // Source-target alignments of finished outputs (decoder start token first):
  // for each generated token outputs[o][1..], the last layer's cross-attention
  // averaged over heads at the step that produced it, [size - 1][encoder
  // length] per output, by teacher-forcing all outputs together (one batched
  // step per position). `between_steps`, if given, runs before every step; an
  // error from it (a deadline, a cancellation) stops the work and is returned.
  absl::StatusOr<std::vector<std::vector<float>>> Alignments(
      std::shared_ptr<const EncoderOutput> encoder,
      std::span<const std::vector<int>> outputs,
      const std::function<absl::Status()>& between_steps = nullptr) const;

  const io::ModelConfig& config() const { return config_; }
  int vocab_size() const { return config_.vocab_size; }

 private:
  Seq2SeqModel() = default;
  // Token embeddings * scale + positions (+ layernorm_embedding), rows of x.
  absl::Status Embed(std::span<const int32_t> ids, std::span<const int> positions,
                     bool decoder, float* x) const;

  io::ModelConfig config_;
  float embed_scale_ = 1.0f;
  Tensor shared_;  // [vocab][d_model], unless lm_head_ serves the lookups
  bool embed_from_head_ = false;
  Tensor encoder_positions_, decoder_positions_;  // learned (BART) or one sinusoid table
  std::unique_ptr<LayerNormWeights> encoder_embed_norm_, decoder_embed_norm_;  // BART
  std::vector<EncoderLayer> encoder_layers_;
  mutable EncoderLayer::ScratchCache encoder_scratch_cache_;
  std::vector<DecoderLayer> decoder_layers_;
  std::unique_ptr<ops::Linear> lm_head_;  // shared weights + final_logits_bias
};

}  // namespace heed::models

#endif  // HEED_CORE_MODELS_SEQ2SEQ_MODEL_H_
