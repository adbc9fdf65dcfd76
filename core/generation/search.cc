#include "core/generation/search.h"

#include <algorithm>
#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/generation/beam_search.h"
#include "core/generation/sampling_search.h"

namespace heed::generation {

absl::StatusOr<std::unique_ptr<Search>> StartSearch(
    const models::Seq2SeqModel& model,
    std::shared_ptr<const models::EncoderOutput> encoder, const GenerationParams& params,
    const SearchOptions& options) {
  if (options.num_beams < 1 || options.num_return_sequences < 1) {
    return absl::InvalidArgumentError(
        "num_beams and num_return_sequences must be at least 1");
  }
  if (options.num_beams > 1) {
    if (options.sampling) {
      return absl::InvalidArgumentError("sampling cannot be combined with beam search");
    }
    if (options.num_return_sequences > options.num_beams) {
      return absl::InvalidArgumentError(
          absl::StrCat("num_return_sequences (", options.num_return_sequences,
                       ") cannot exceed the beam size (", options.num_beams, ")"));
    }
    return std::unique_ptr<Search>(
        new BeamSearch(model, std::move(encoder), params, options));
  }
  if (!options.sampling && options.num_return_sequences > 1) {
    return absl::InvalidArgumentError(
        "greedy search returns one sequence; ask for beams or sampling to get more");
  }
  if (options.sampling) {
    const SamplingOptions& s = *options.sampling;
    if (!(s.temperature > 0) || s.top_k < 0 || !(s.top_p > 0 && s.top_p <= 1)) {
      return absl::InvalidArgumentError(
          "sampling needs temperature > 0, top_k >= 0 and top_p in (0, 1]");
    }
  }
  return std::unique_ptr<Search>(
      new SamplingSearch(model, std::move(encoder), params, options));
}

absl::Status StepSearches(const models::Seq2SeqModel& model,
                          std::span<Search* const> searches, StepProfile* profile) {
  std::vector<models::DecoderState*> states;
  std::vector<int32_t> tokens;
  std::vector<size_t> rows = {0};
  std::vector<Search*> active;
  for (Search* search : searches) {
    if (search->done()) continue;
    search->Inputs(&states, &tokens);
    rows.push_back(states.size());
    active.push_back(search);
  }
  if (states.empty()) return absl::OkStatus();
  const int vocab = model.vocab_size();
  // Reused by the thread's next steps: a fresh rows x vocabulary buffer per
  // step (16 MB at 128 rows of a 32k vocabulary) costs page faults and
  // zeroing on every step.
  thread_local std::vector<float> logits;
  logits.resize(states.size() * vocab);
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = profile ? Clock::now() : Clock::time_point();
  if (absl::Status s = model.Step(states, tokens, logits.data()); !s.ok()) return s;
  const Clock::time_point stepped = profile ? Clock::now() : Clock::time_point();
  // The searches are independent: they score their rows on the compute
  // threads together, instead of one thread scoring while the others wait.
  // (`logits` is thread_local: the other threads reach it through `all`.)
  const int64_t count = static_cast<int64_t>(active.size());
  const std::span<const float> all(logits);
#pragma omp parallel for schedule(dynamic, 1) if (count > 1)
  for (int64_t i = 0; i < count; ++i) {
    active[i]->Advance(all.subspan(rows[i] * vocab, (rows[i + 1] - rows[i]) * vocab),
                       vocab);
  }
  if (profile) {
    profile->steps += 1;
    profile->rows += static_cast<int64_t>(states.size());
    profile->model_seconds += std::chrono::duration<double>(stepped - start).count();
    profile->search_seconds +=
        std::chrono::duration<double>(Clock::now() - stepped).count();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hypothesis>> Generate(const models::Seq2SeqModel& model,
                                                 std::span<const int32_t> input_ids,
                                                 const GenerationParams& params,
                                                 const SearchOptions& options) {
  auto encoder = model.Encode(input_ids);
  if (!encoder.ok()) return encoder.status();
  auto search = StartSearch(model, *encoder, params, options);
  if (!search.ok()) return search.status();
  Search* searches[1] = {search->get()};
  if (absl::Status s = RunToEnd(model, searches); !s.ok()) return s;
  return (*search)->Results();
}

absl::Status RunToEnd(const models::Seq2SeqModel& model,
                      std::span<Search* const> searches, StepProfile* profile) {
  auto running = [&] {
    return std::any_of(searches.begin(), searches.end(),
                       [](const Search* s) { return !s->done(); });
  };
  while (running()) {
    if (absl::Status s = StepSearches(model, searches, profile); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace heed::generation
