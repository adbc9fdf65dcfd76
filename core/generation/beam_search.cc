#include "core/generation/beam_search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/generation/logits_processors.h"

namespace heed::generation {
namespace {

// Finished hypotheses: at most num_beams, the worst dropped as better ones come.
class FinishedHypotheses {
 public:
  FinishedHypotheses(int num_beams, float length_penalty)
      : num_beams_(num_beams), length_penalty_(length_penalty) {}

  void Add(std::vector<int> ids, double sum_logprobs) {
    const double score = sum_logprobs / std::pow(static_cast<double>(ids.size()), length_penalty_);
    if (static_cast<int>(hyps_.size()) < num_beams_ || score > worst_) {
      hyps_.push_back({std::move(ids), score});
      if (static_cast<int>(hyps_.size()) > num_beams_) {
        auto by_score = [](const auto& a, const auto& b) { return a.score < b.score; };
        hyps_.erase(std::min_element(hyps_.begin(), hyps_.end(), by_score));
        worst_ = std::min_element(hyps_.begin(), hyps_.end(), by_score)->score;
      } else {
        worst_ = std::min(score, worst_);
      }
    }
  }

  bool Done(double best_sum_logprobs, int length, bool early_stopping) const {
    if (static_cast<int>(hyps_.size()) < num_beams_) return false;
    if (early_stopping) return true;
    return worst_ >= best_sum_logprobs / std::pow(static_cast<double>(length), length_penalty_);
  }

  struct Entry {
    std::vector<int> ids;
    double score;
  };
  std::vector<Entry>& entries() { return hyps_; }

 private:
  int num_beams_;
  float length_penalty_;
  double worst_ = 1e9;
  std::vector<Entry> hyps_;
};

struct Beam {
  std::vector<int> ids;
  double score;
  models::DecoderState state;
};

void LogSoftmax(std::span<float> row) {
  const float max_value = *std::max_element(row.begin(), row.end());
  double sum = 0;
  for (float v : row) sum += std::exp(v - max_value);
  const float log_normalizer = max_value + static_cast<float>(std::log(sum));
  for (float& v : row) v -= log_normalizer;
}

}  // namespace

absl::StatusOr<std::vector<Hypothesis>> BeamSearch(const models::Seq2SeqModel& model,
                                                   std::span<const int32_t> input_ids,
                                                   const GenerationParams& params,
                                                   const BeamSearchOptions& options) {
  const int k = options.num_beams;
  if (k < 1 || options.num_return_sequences < 1 || options.num_return_sequences > k) {
    return absl::InvalidArgumentError(absl::StrCat(
        "beam search needs num_beams >= 1 and 1 <= num_return_sequences <= num_beams, got ", k,
        " and ", options.num_return_sequences));
  }
  auto encoder = model.Encode(input_ids);
  if (!encoder.ok()) return encoder.status();
  const int vocab = model.vocab_size();
  // All beams start identical, so the first step runs one of them: Hugging
  // Face gives the others -1e9, which keeps their candidates out of the top.
  std::vector<Beam> beams;
  beams.push_back({{params.decoder_start_token_id}, 0.0, model.StartDecoding(*encoder)});
  FinishedHypotheses finished(k, options.length_penalty);
  bool done = false;
  std::vector<float> scores;
  for (int length = 1; length < params.max_length && !done; ++length) {
    const int n = static_cast<int>(beams.size());
    std::vector<models::DecoderState*> states;
    std::vector<int32_t> tokens;
    for (Beam& beam : beams) {
      states.push_back(&beam.state);
      tokens.push_back(beam.ids.back());
    }
    scores.resize(static_cast<size_t>(n) * vocab);
    if (absl::Status s = model.Step(states, tokens, scores.data()); !s.ok()) return s;
    for (int b = 0; b < n; ++b) {
      std::span<float> row(scores.data() + static_cast<size_t>(b) * vocab, vocab);
      LogSoftmax(row);
      ApplyLogitsProcessors(params, beams[b].ids, row);
      for (float& v : row) v = static_cast<float>(v + beams[b].score);
    }
    // The best 2k candidates over all beams, best first (lower index on ties).
    std::vector<int> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    const int candidates = std::min<int>(2 * k, static_cast<int>(order.size()));
    std::partial_sort(order.begin(), order.begin() + candidates, order.end(),
                      [&](int a, int b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); });
    std::vector<Beam> next;
    std::vector<int> uses(n, 0);
    std::vector<std::pair<int, int>> picks;  // (parent beam, token)
    std::vector<double> pick_scores;
    for (int rank = 0; rank < candidates && static_cast<int>(picks.size()) < k; ++rank) {
      const int parent = order[rank] / vocab, token = order[rank] % vocab;
      const double score = scores[order[rank]];
      if (std::isinf(score) && score < 0) break;  // nothing allowed is left
      if (token == params.eos_token_id) {
        if (rank >= k) continue;
        finished.Add(beams[parent].ids, score);
      } else {
        picks.push_back({parent, token});
        pick_scores.push_back(score);
        ++uses[parent];
      }
    }
    done = finished.Done(scores[order[0]], length, options.early_stopping) || picks.empty();
    // Continue each pick from its parent; a parent picked once hands its
    // caches over, one picked several times is copied.
    for (size_t i = 0; i < picks.size(); ++i) {
      auto [parent, token] = picks[i];
      Beam beam{beams[parent].ids, pick_scores[i],
                --uses[parent] == 0 ? std::move(beams[parent].state) : beams[parent].state.Clone()};
      beam.ids.push_back(token);
      next.push_back(std::move(beam));
    }
    beams = std::move(next);
  }
  if (!done) {
    for (Beam& beam : beams) finished.Add(beam.ids, beam.score);
  }
  auto& entries = finished.entries();
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.score > b.score; });
  std::vector<Hypothesis> out;
  for (int i = 0; i < options.num_return_sequences && i < static_cast<int>(entries.size()); ++i) {
    Hypothesis h{entries[i].ids, static_cast<float>(entries[i].score)};
    if (static_cast<int>(h.ids.size()) < params.max_length) h.ids.push_back(params.eos_token_id);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace heed::generation
