#include "core/generation/sampling_search.h"

#include <algorithm>

#include "core/generation/logits_processors.h"
#include "core/generation/token_scores.h"
#include "core/kernels/elementwise.h"

namespace heed::generation {

SamplingSearch::SamplingSearch(const models::Seq2SeqModel& model,
                               std::shared_ptr<const models::EncoderOutput> encoder,
                               const GenerationParams& params,
                               const SearchOptions& options)
    : params_(params),
      sampling_(options.sampling),
      rng_(options.sampling ? options.sampling->seed : 0) {
  const int count = sampling_ ? options.num_return_sequences : 1;
  for (int i = 0; i < count; ++i) {
    Sequence sequence;
    sequence.ids.push_back(params.decoder_start_token_id);
    sequence.finished = params.max_length <= 1;
    sequence.state = model.StartDecoding(encoder);
    sequences_.push_back(std::move(sequence));
  }
}

bool SamplingSearch::done() const {
  return std::all_of(sequences_.begin(), sequences_.end(),
                     [](const Sequence& s) { return s.finished; });
}

void SamplingSearch::Inputs(std::vector<models::DecoderState*>* states,
                            std::vector<int32_t>* tokens) {
  for (Sequence& s : sequences_) {
    if (s.finished) continue;
    states->push_back(&s.state);
    tokens->push_back(s.ids.back());
  }
}

void SamplingSearch::Advance(std::span<const float> logits, int vocab) {
  size_t row = 0;
  for (Sequence& s : sequences_) {
    if (s.finished) continue;
    log_probs_.assign(logits.begin() + row * vocab, logits.begin() + (row + 1) * vocab);
    ++row;
    ApplyRepetitionPenalties(params_, s.ids, log_probs_);  // on logits
    LogSoftmaxInPlace(log_probs_);
    scores_.assign(log_probs_.begin(), log_probs_.end());
    ApplyLogitsProcessors(params_, s.ids, scores_);
    const int token = sampling_
                          ? SampleToken(scores_, *sampling_, rng_)
                          : static_cast<int>(kernels::ArgMax(scores_.data(), vocab));
    s.log_probability += log_probs_[token];
    s.ids.push_back(token);
    s.finished = token == params_.eos_token_id ||
                 static_cast<int>(s.ids.size()) >= params_.max_length;
  }
}

std::vector<Hypothesis> SamplingSearch::Results() {
  std::vector<Hypothesis> out;
  for (const Sequence& s : sequences_) {
    out.push_back({s.ids, static_cast<float>(s.log_probability)});
  }
  std::stable_sort(out.begin(), out.end(), [](const Hypothesis& a, const Hypothesis& b) {
    return a.score > b.score;
  });
  return out;
}

std::vector<int> SamplingSearch::FinalTokens() const {
  return std::vector<int>(sequences_[0].ids.begin() + 1, sequences_[0].ids.end());
}

}  // namespace heed::generation
