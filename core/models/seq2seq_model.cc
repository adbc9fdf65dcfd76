#include "core/models/seq2seq_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/kernels/attention.h"
#include "core/kernels/elementwise.h"

namespace heed::models {
namespace {

constexpr float kLayerNormEps = 1e-5f;  // both families' nn.LayerNorm default
constexpr int kBartPositionOffset = 2;  // BART's learned positions start at row 2

// Marian's table: position p, column i < d/2: sin(p / 10000^(2i/d)); column
// d/2 + i: the cosine of the same angle.
Tensor SinusoidTable(int positions, int d) {
  Tensor table(DType::kF32, {positions, d});
  float* t = table.data<float>();
  for (int p = 0; p < positions; ++p) {
    for (int i = 0; i < d / 2; ++i) {
      const double angle = p / std::pow(10000.0, 2.0 * i / d);
      t[int64_t{p} * d + i] = static_cast<float>(std::sin(angle));
      t[int64_t{p} * d + d / 2 + i] = static_cast<float>(std::cos(angle));
    }
  }
  return table;
}

EncoderLayerNames EncoderNames(int i) {
  const std::string p = absl::StrCat("model.encoder.layers.", i, ".");
  return {p + "self_attn.q_proj.",
          p + "self_attn.k_proj.",
          p + "self_attn.v_proj.",
          p + "self_attn.out_proj.",
          p + "self_attn_layer_norm.",
          p + "fc1.",
          p + "fc2.",
          p + "final_layer_norm."};
}

}  // namespace

DecoderState DecoderState::Clone() const {
  DecoderState copy;
  copy.encoder_ = encoder_;
  copy.position_ = position_;
  for (const KvCache& cache : self_) copy.self_.push_back(cache.Clone());
  return copy;
}

absl::StatusOr<std::unique_ptr<Seq2SeqModel>> Seq2SeqModel::Load(
    const std::string& model_dir, ops::ComputeType compute_type) {
  absl::StatusOr<io::ModelConfig> config = io::ReadModelConfig(model_dir);
  if (!config.ok()) return config.status();
  const bool marian = config->family == io::ModelFamily::kMarian;
  if (!marian && config->family != io::ModelFamily::kBart) {
    return absl::InvalidArgumentError(absl::StrCat(model_dir, ": ", config->model_type,
                                                   " is not an encoder-decoder family"));
  }
  if (config->normalize_before) {
    return absl::UnimplementedError(
        absl::StrCat(model_dir, ": pre-layer-norm (normalize_before) is not supported"));
  }
  if (config->d_model % 2 != 0) {
    return absl::UnimplementedError(
        absl::StrCat(model_dir, ": odd d_model is not supported"));
  }
  absl::StatusOr<io::Checkpoint> checkpoint = io::Checkpoint::Open(model_dir);
  if (!checkpoint.ok()) return checkpoint.status();
  WeightLoader loader(&*checkpoint, compute_type);
  std::unique_ptr<Seq2SeqModel> model(new Seq2SeqModel);
  model->config_ = *config;
  const io::ModelConfig& c = model->config_;
  const int64_t d = c.d_model, vocab = c.vocab_size;
  model->embed_scale_ = c.scale_embedding ? std::sqrt(static_cast<float>(d)) : 1.0f;

  // Hub checkpoints store the tied embeddings once, under either name.
  const std::string shared_name = loader.Has("model.shared.weight")
                                      ? "model.shared.weight"
                                      : "model.encoder.embed_tokens.weight";
  absl::StatusOr<Tensor> shared = loader.Load(shared_name, {vocab, d});
  if (!shared.ok()) return shared.status();
  model->shared_ = std::move(*shared);
  if (marian) {
    model->encoder_positions_ = SinusoidTable(c.max_position_embeddings, c.d_model);
  } else {
    const int64_t rows = c.max_position_embeddings + kBartPositionOffset;
    for (auto [side, table] : {std::pair{"encoder", &model->encoder_positions_},
                               std::pair{"decoder", &model->decoder_positions_}}) {
      absl::StatusOr<Tensor> positions =
          loader.Load(absl::StrCat("model.", side, ".embed_positions.weight"), {rows, d});
      if (!positions.ok()) return positions.status();
      *table = std::move(*positions);
      absl::StatusOr<LayerNormWeights> norm = loader.Norm(
          absl::StrCat("model.", side, ".layernorm_embedding."), d, kLayerNormEps);
      if (!norm.ok()) return norm.status();
      (std::string(side) == "encoder" ? model->encoder_embed_norm_
                                      : model->decoder_embed_norm_) =
          std::make_unique<LayerNormWeights>(std::move(*norm));
    }
  }
  absl::StatusOr<ops::Activation> act = ActivationFromName(c.activation);
  if (!act.ok()) return act.status();
  for (int i = 0; i < c.encoder_layers; ++i) {
    absl::StatusOr<EncoderLayer> layer =
        EncoderLayer::Load(loader, EncoderNames(i), c.d_model, c.encoder_heads,
                           c.encoder_ffn_dim, *act, kLayerNormEps);
    if (!layer.ok()) return layer.status();
    model->encoder_layers_.push_back(std::move(*layer));
  }
  for (int i = 0; i < c.decoder_layers; ++i) {
    absl::StatusOr<DecoderLayer> layer = DecoderLayer::Load(
        loader, absl::StrCat("model.decoder.layers.", i, "."), c.d_model, c.decoder_heads,
        c.decoder_ffn_dim, *act, kLayerNormEps);
    if (!layer.ok()) return layer.status();
    model->decoder_layers_.push_back(std::move(*layer));
  }
  Tensor bias = Tensor::Zeros(DType::kF32, {vocab});
  if (loader.Has("final_logits_bias")) {
    absl::StatusOr<Tensor> loaded = loader.Load("final_logits_bias", {1, vocab});
    if (!loaded.ok()) return loaded.status();
    std::memcpy(bias.data<float>(), loaded->data<float>(), vocab * sizeof(float));
  }
  absl::StatusOr<std::unique_ptr<ops::Linear>> head =
      loader.LinearFrom(model->shared_, &bias);
  if (!head.ok()) return head.status();
  model->lm_head_ = std::move(*head);
  // The embedding table is the output layer's weights (tied): in float32 the
  // layer's converted copy serves the embedding lookups too, and the table
  // is freed (vocab x d_model floats: a quarter of a Marian-base model).
  if (model->lm_head_->can_gather_weight_rows()) {
    model->shared_ = Tensor();
    model->embed_from_head_ = true;
  }
  return model;
}

absl::Status Seq2SeqModel::Embed(std::span<const int32_t> ids,
                                 std::span<const int> positions, bool decoder,
                                 float* x) const {
  const int64_t d = config_.d_model;
  const absl::Status gathered =
      embed_from_head_
          ? lm_head_->GatherWeightRows(ids, embed_scale_, x)
          : kernels::EmbeddingGather(shared_.data<float>(), config_.vocab_size, d, ids,
                                     embed_scale_, x);
  if (!gathered.ok()) return gathered;
  const bool marian = config_.family == io::ModelFamily::kMarian;
  const Tensor& table = marian || !decoder ? encoder_positions_ : decoder_positions_;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (positions[i] >= config_.max_position_embeddings) {
      return absl::InvalidArgumentError(
          absl::StrCat("position ", positions[i], " is beyond the model's limit of ",
                       config_.max_position_embeddings, " tokens"));
    }
    const int row = positions[i] + (marian ? 0 : kBartPositionOffset);
    kernels::AddInPlace(x + i * d, table.data<float>() + int64_t{row} * d, d);
  }
  const LayerNormWeights* norm =
      (decoder ? decoder_embed_norm_ : encoder_embed_norm_).get();
  if (norm != nullptr) norm->Apply(x, x, static_cast<int64_t>(ids.size()));
  return absl::OkStatus();
}

absl::Status Seq2SeqModel::CheckInputLength(int length) const {
  if (length == 0 || length > config_.max_position_embeddings) {
    return absl::InvalidArgumentError(absl::StrCat("the input has ", length,
                                                   " tokens; the model accepts 1 to ",
                                                   config_.max_position_embeddings));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const EncoderOutput>> Seq2SeqModel::Encode(
    std::span<const int32_t> input_ids) const {
  const std::span<const int32_t> inputs[1] = {input_ids};
  auto outputs = EncodeBatch(inputs);
  if (!outputs.ok()) return outputs.status();
  return std::move(outputs->front());
}

absl::StatusOr<std::vector<std::shared_ptr<const EncoderOutput>>>
Seq2SeqModel::EncodeBatch(std::span<const std::span<const int32_t>> inputs) const {
  std::vector<int32_t> offsets = {0}, ids;
  std::vector<int> positions;
  for (std::span<const int32_t> input : inputs) {
    const int length = static_cast<int>(input.size());
    if (absl::Status s = CheckInputLength(length); !s.ok()) return s;
    offsets.push_back(offsets.back() + length);
    ids.insert(ids.end(), input.begin(), input.end());
    for (int i = 0; i < length; ++i) positions.push_back(i);
  }
  const int64_t d = config_.d_model;
  const int64_t tokens = offsets.back();
  std::vector<float> x(tokens * d);
  if (absl::Status s = Embed(ids, positions, /*decoder=*/false, x.data()); !s.ok())
    return s;
  if (absl::Status s = EncoderLayer::ForwardStack(encoder_layers_, x.data(), offsets,
                                                  encoder_scratch_cache_);
      !s.ok()) {
    return s;
  }
  std::vector<std::shared_ptr<EncoderOutput>> outputs;
  for (size_t b = 0; b < inputs.size(); ++b) {
    auto out = std::make_shared<EncoderOutput>();
    out->length = offsets[b + 1] - offsets[b];
    out->hidden = Tensor(DType::kF32, {out->length, d});
    std::memcpy(out->hidden.data<float>(), x.data() + offsets[b] * d,
                out->length * d * sizeof(float));
    outputs.push_back(std::move(out));
  }
  // Each decoder layer's cross-attention keys and values: one projection
  // over every token, split per sequence.
  for (const DecoderLayer& layer : decoder_layers_) {
    absl::StatusOr<std::vector<KvCache>> caches =
        layer.CrossKeysValues(x.data(), offsets);
    if (!caches.ok()) return caches.status();
    for (size_t b = 0; b < inputs.size(); ++b) {
      outputs[b]->cross.push_back(std::move((*caches)[b]));
    }
  }
  return std::vector<std::shared_ptr<const EncoderOutput>>(outputs.begin(),
                                                           outputs.end());
}

DecoderState Seq2SeqModel::StartDecoding(
    std::shared_ptr<const EncoderOutput> encoder) const {
  DecoderState state;
  state.encoder_ = std::move(encoder);
  const int heads = config_.decoder_heads;
  state.self_.reserve(decoder_layers_.size());
  for (size_t l = 0; l < decoder_layers_.size(); ++l) {
    state.self_.emplace_back(heads, config_.d_model / heads,
                             decoder_layers_[l].attention_dtype());
  }
  return state;
}

absl::Status Seq2SeqModel::Step(std::span<DecoderState* const> states,
                                std::span<const int32_t> tokens, float* logits,
                                std::vector<float>* cross_attention) const {
  const int64_t batch = static_cast<int64_t>(states.size());
  if (batch == 0) return absl::OkStatus();
  if (static_cast<int64_t>(tokens.size()) != batch) {
    return absl::InvalidArgumentError("Step needs one token per decoder state");
  }
  const int64_t d = config_.d_model;
  std::vector<int> positions(batch);
  for (int64_t b = 0; b < batch; ++b) positions[b] = states[b]->position_;
  std::vector<float> x(batch * d);
  if (absl::Status s = Embed(tokens, positions, /*decoder=*/true, x.data()); !s.ok())
    return s;
  DecoderLayer::Scratch scratch(batch, d, config_.decoder_ffn_dim);
  std::vector<KvCache*> self_caches(batch);
  std::vector<const KvCache*> cross_caches(batch);
  std::vector<float> probs;  // [batch][heads][source length], last layer only
  for (size_t l = 0; l < decoder_layers_.size(); ++l) {
    for (int64_t b = 0; b < batch; ++b) {
      self_caches[b] = &states[b]->self_[l];
      cross_caches[b] = &states[b]->encoder_->cross[l];
    }
    const bool want_probs = cross_attention != nullptr && l + 1 == decoder_layers_.size();
    if (absl::Status s = decoder_layers_[l].Step(x.data(), self_caches, cross_caches,
                                                 scratch, want_probs ? &probs : nullptr);
        !s.ok()) {
      return s;
    }
  }
  if (cross_attention != nullptr) {
    // The last layer's cross-attention, averaged over heads.
    const int heads = config_.decoder_heads;
    cross_attention->clear();
    const float* p = probs.data();
    for (int64_t b = 0; b < batch; ++b) {
      const int length = states[b]->encoder_->length;
      std::vector<float> mean(length, 0.0f);
      for (int h = 0; h < heads; ++h, p += length) {
        for (int t = 0; t < length; ++t) mean[t] += p[t] / heads;
      }
      cross_attention->insert(cross_attention->end(), mean.begin(), mean.end());
    }
  }
  for (DecoderState* state : states) ++state->position_;
  return lm_head_->Forward(x.data(), batch, logits);
}

absl::StatusOr<std::vector<std::vector<float>>> Seq2SeqModel::Alignments(
    std::shared_ptr<const EncoderOutput> encoder,
    std::span<const std::vector<int>> outputs,
    const std::function<absl::Status()>& between_steps) const {
  const int source = encoder->length;
  std::vector<DecoderState> states;
  size_t longest = 0;
  for (const std::vector<int>& ids : outputs) {
    states.push_back(StartDecoding(encoder));
    longest = std::max(longest, ids.size());
  }
  std::vector<std::vector<float>> alignments(outputs.size());
  std::vector<DecoderState*> active;
  std::vector<int32_t> tokens;
  std::vector<size_t> which;
  std::vector<float> logits, rows;
  // Step i feeds token i of every output that still has a token after it.
  for (size_t i = 0; i + 1 < longest; ++i) {
    active.clear();
    tokens.clear();
    which.clear();
    for (size_t o = 0; o < outputs.size(); ++o) {
      if (i + 1 < outputs[o].size()) {
        active.push_back(&states[o]);
        tokens.push_back(outputs[o][i]);
        which.push_back(o);
      }
    }
    if (between_steps) {
      if (absl::Status s = between_steps(); !s.ok()) return s;
    }
    logits.resize(active.size() * static_cast<size_t>(vocab_size()));
    if (absl::Status s = Step(active, tokens, logits.data(), &rows); !s.ok()) return s;
    for (size_t r = 0; r < which.size(); ++r) {
      const float* row = rows.data() + r * source;
      alignments[which[r]].insert(alignments[which[r]].end(), row, row + source);
    }
  }
  return alignments;
}

}  // namespace heed::models
