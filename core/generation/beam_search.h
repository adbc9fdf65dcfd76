// Beam search with Hugging Face's semantics (BeamSearchScorer): log-softmax
// scores plus the logits processors; the best 2 x num_beams candidates each
// step; an EOS among the first num_beams candidates finishes a hypothesis
// scored sum_logprobs / length^length_penalty (length with the start token,
// without EOS); early_stopping true stops at num_beams finished hypotheses,
// false when no open beam can beat the worst finished one.
#ifndef HEED_CORE_GENERATION_BEAM_SEARCH_H_
#define HEED_CORE_GENERATION_BEAM_SEARCH_H_

#include <memory>
#include <vector>

#include "core/generation/search.h"

namespace heed::generation {

class BeamSearch final : public Search {
 public:
  BeamSearch(const models::Seq2SeqModel& model,
             std::shared_ptr<const models::EncoderOutput> encoder,
             const GenerationParams& params, const SearchOptions& options);

  bool done() const override { return done_; }
  double kv_copy_seconds() const override { return kv_copy_seconds_; }
  void Inputs(std::vector<models::DecoderState*>* states,
              std::vector<int32_t>* tokens) override;
  void Advance(std::span<const float> logits, int vocab) override;
  std::vector<Hypothesis> Results() override;
  std::vector<int> FinalTokens() const override;

 private:
  struct Beam {
    std::vector<int> ids;
    double score;
    models::DecoderState state;
  };
  struct Finished {
    std::vector<int> ids;
    double score;
  };
  void AddFinished(std::vector<int> ids, double sum_logprobs);
  bool EnoughFinished(double best_sum_logprobs) const;
  void Finish();

  GenerationParams params_;
  SearchOptions options_;
  std::vector<Beam> beams_;
  std::vector<Finished> finished_;  // at most num_beams, best kept
  double kv_copy_seconds_ = 0;
  std::vector<float> scores_;  // this step's candidate scores, beams x vocabulary
  double worst_finished_ = 1e9;
  int length_ = 1;
  bool done_ = false;
};

}  // namespace heed::generation

#endif  // HEED_CORE_GENERATION_BEAM_SEARCH_H_
