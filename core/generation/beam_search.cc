#include "core/generation/beam_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/generation/logits_processors.h"
#include "core/generation/token_scores.h"

namespace heed::generation {

BeamSearch::BeamSearch(const models::Seq2SeqModel& model,
                       std::shared_ptr<const models::EncoderOutput> encoder,
                       const GenerationParams& params, const SearchOptions& options)
    : params_(params), options_(options) {
  // All beams start identical, so the first step runs one of them: Hugging
  // Face gives the others -1e9, which keeps their candidates out of the top.
  beams_.push_back(
      {{params.decoder_start_token_id}, 0.0, model.StartDecoding(std::move(encoder))});
  if (length_ >= params_.max_length) Finish();
}

void BeamSearch::Inputs(std::vector<models::DecoderState*>* states,
                        std::vector<int32_t>* tokens) {
  for (Beam& beam : beams_) {
    states->push_back(&beam.state);
    tokens->push_back(beam.ids.back());
  }
}

void BeamSearch::AddFinished(std::vector<int> ids, double sum_logprobs) {
  const double score =
      sum_logprobs / std::pow(static_cast<double>(ids.size()), options_.length_penalty);
  const int k = options_.num_beams;
  if (static_cast<int>(finished_.size()) >= k && score <= worst_finished_) return;
  finished_.push_back({std::move(ids), score});
  auto by_score = [](const Finished& a, const Finished& b) { return a.score < b.score; };
  if (static_cast<int>(finished_.size()) > k) {
    finished_.erase(std::min_element(finished_.begin(), finished_.end(), by_score));
    worst_finished_ =
        std::min_element(finished_.begin(), finished_.end(), by_score)->score;
  } else {
    worst_finished_ = std::min(score, worst_finished_);
  }
}

bool BeamSearch::EnoughFinished(double best_sum_logprobs) const {
  if (static_cast<int>(finished_.size()) < options_.num_beams) return false;
  if (options_.early_stopping) return true;
  return worst_finished_ >= best_sum_logprobs / std::pow(static_cast<double>(length_),
                                                         options_.length_penalty);
}

namespace {

// The indices of the best `count` scores, best first, and of equal scores the
// lower index first: what std::partial_sort gives under that order, in one
// pass, where a score below the current count-th best costs one comparison
// (the candidates are beams x vocabulary: 128k scores at beam 4 and 32k).
std::vector<int> TopCandidates(std::span<const float> scores, int count) {
  std::vector<int> top;
  top.reserve(count + 1);
  for (int i = 0; i < static_cast<int>(scores.size()); ++i) {
    const float v = scores[i];
    if (static_cast<int>(top.size()) == count && !(v > scores[top.back()])) continue;
    // After every entry scoring at least v: those have lower indices.
    auto at = std::upper_bound(top.begin(), top.end(), v,
                               [&](float value, int j) { return value > scores[j]; });
    top.insert(at, i);
    if (static_cast<int>(top.size()) > count) top.pop_back();
  }
  return top;
}

}  // namespace

void BeamSearch::Advance(std::span<const float> logits, int vocab) {
  const int k = options_.num_beams;
  const int n = static_cast<int>(beams_.size());
  std::vector<float>& scores = scores_;  // reused: no allocation per step
  scores.assign(logits.begin(), logits.end());
  for (int b = 0; b < n; ++b) {
    std::span<float> row(scores.data() + static_cast<size_t>(b) * vocab, vocab);
    LogSoftmaxInPlace(row);
    ApplyRepetitionPenalties(params_, beams_[b].ids, row);
    ApplyLogitsProcessors(params_, beams_[b].ids, row);
    for (float& v : row) v = static_cast<float>(v + beams_[b].score);
  }
  // The best 2k candidates over all beams, best first (lower index on ties).
  const int candidates = std::min<int>(2 * k, static_cast<int>(scores.size()));
  const std::vector<int> order = TopCandidates(scores, candidates);
  std::vector<std::pair<int, int>> picks;  // (parent beam, token)
  std::vector<double> pick_scores;
  std::vector<int> uses(n, 0);
  for (int rank = 0; rank < candidates && static_cast<int>(picks.size()) < k; ++rank) {
    const int parent = order[rank] / vocab, token = order[rank] % vocab;
    const double score = scores[order[rank]];
    if (std::isinf(score) && score < 0) break;  // nothing allowed is left
    if (token == params_.eos_token_id) {
      if (rank < k) AddFinished(beams_[parent].ids, score);
    } else {
      picks.push_back({parent, token});
      pick_scores.push_back(score);
      ++uses[parent];
    }
  }
  const bool enough = EnoughFinished(scores[order[0]]) || picks.empty();
  // Continue each pick from its parent: a parent picked once hands its caches
  // over, one picked several times is copied.
  std::vector<Beam> next;
  for (size_t i = 0; i < picks.size(); ++i) {
    auto [parent, token] = picks[i];
    models::DecoderState state;
    if (--uses[parent] == 0) {
      state = std::move(beams_[parent].state);
    } else {
      const auto start = std::chrono::steady_clock::now();
      state = beams_[parent].state.Clone();
      kv_copy_seconds_ +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    Beam beam{beams_[parent].ids, pick_scores[i], std::move(state)};
    beam.ids.push_back(token);
    next.push_back(std::move(beam));
  }
  beams_ = std::move(next);
  ++length_;
  if (enough) {
    done_ = true;  // the open beams cannot win any more
  } else if (length_ >= params_.max_length) {
    Finish();
  }
}

void BeamSearch::Finish() {
  for (Beam& beam : beams_) AddFinished(beam.ids, beam.score);
  done_ = true;
}

std::vector<Hypothesis> BeamSearch::Results() {
  std::stable_sort(
      finished_.begin(), finished_.end(),
      [](const Finished& a, const Finished& b) { return a.score > b.score; });
  std::vector<Hypothesis> out;
  for (int i = 0;
       i < options_.num_return_sequences && i < static_cast<int>(finished_.size()); ++i) {
    Hypothesis h{finished_[i].ids, static_cast<float>(finished_[i].score)};
    if (static_cast<int>(h.ids.size()) < params_.max_length)
      h.ids.push_back(params_.eos_token_id);
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<int> BeamSearch::FinalTokens() const {
  if (!done_ || finished_.empty()) return {};
  const auto best = std::max_element(
      finished_.begin(), finished_.end(),
      [](const Finished& a, const Finished& b) { return a.score < b.score; });
  return std::vector<int>(best->ids.begin() + 1, best->ids.end());
}

}  // namespace heed::generation
