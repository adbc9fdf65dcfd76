// Greedy search and random sampling: each sequence advances by one token per
// step (the best one, or a draw after the warpers), so every generated token
// is final as soon as it is chosen, which is what streaming sends.
#ifndef HEED_CORE_GENERATION_SAMPLING_SEARCH_H_
#define HEED_CORE_GENERATION_SAMPLING_SEARCH_H_

#include <memory>
#include <random>
#include <vector>

#include "core/generation/search.h"

namespace heed::generation {

class SamplingSearch final : public Search {
 public:
  SamplingSearch(const models::Seq2SeqModel& model,
                 std::shared_ptr<const models::EncoderOutput> encoder,
                 const GenerationParams& params, const SearchOptions& options);

  bool done() const override;
  void Inputs(std::vector<models::DecoderState*>* states,
              std::vector<int32_t>* tokens) override;
  void Advance(std::span<const float> logits, int vocab) override;
  std::vector<Hypothesis> Results() override;
  std::vector<int> FinalTokens() const override;

 private:
  struct Sequence {
    std::vector<int> ids;
    double log_probability = 0.0;
    bool finished = false;
    models::DecoderState state;
  };

  GenerationParams params_;
  std::optional<SamplingOptions> sampling_;
  std::mt19937_64 rng_;
  std::vector<Sequence> sequences_;
  // One row's log-probabilities and processed scores, reused across rows
  // and steps (a vocabulary-sized allocation per row would cost more than
  // the arithmetic).
  std::vector<float> log_probs_, scores_;
};

}  // namespace heed::generation

#endif  // HEED_CORE_GENERATION_SAMPLING_SEARCH_H_
