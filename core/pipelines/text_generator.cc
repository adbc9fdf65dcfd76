#include "core/pipelines/text_generator.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/pipelines/input_limit.h"
#include "core/pipelines/status_details.h"

namespace heed::pipelines {

absl::StatusOr<std::unique_ptr<TextGenerator>> TextGenerator::Load(
    const std::string& model_dir, ops::ComputeType compute_type) {
  std::unique_ptr<TextGenerator> g(new TextGenerator);
  auto model = models::Seq2SeqModel::Load(model_dir, compute_type);
  if (!model.ok()) return model.status();
  g->model_ = std::move(*model);
  auto tokenizer = LoadTokenizer(model_dir, g->model_->config());
  if (!tokenizer.ok()) return tokenizer.status();
  g->tokenizer_ = std::move(*tokenizer);
  auto defaults = io::ReadGenerationDefaults(model_dir);
  if (!defaults.ok()) return defaults.status();
  g->defaults_ = *defaults;
  return g;
}

absl::StatusOr<PreparedGeneration> TextGenerator::Prepare(
    const GenerationRequest& r) const {
  auto p = PrepareOptions(r);
  if (!p.ok()) return p.status();
  if (absl::Status s = Tokenize(&*p); !s.ok()) return s;
  return p;
}

absl::Status TextGenerator::Tokenize(PreparedGeneration* p) const {
  if (p->tokenized) return absl::OkStatus();
  p->source_tokens = tokenizer_->Encode(p->text);
  if (absl::Status s = FitInputLimit(&p->source_tokens, max_input_tokens(),
                                     p->truncate_input, &p->truncated);
      !s.ok()) {
    return s;
  }
  p->source_ids.clear();
  for (const auto& t : p->source_tokens) p->source_ids.push_back(t.id);
  if (p->params.encoder_repetition_penalty != 1.0f) {
    p->params.encoder_input_ids.assign(p->source_ids.begin(), p->source_ids.end());
  }
  p->text.clear();
  p->tokenized = true;
  return absl::OkStatus();
}

absl::StatusOr<PreparedGeneration> TextGenerator::PrepareOptions(
    const GenerationRequest& r) const {
  if (r.text.empty()) {
    return WithReason(absl::InvalidArgumentError("text must not be empty"),
                      "EMPTY_INPUT");
  }
  PreparedGeneration p;
  p.text = r.text;
  p.truncate_input = r.truncate_input;

  p.params = generation::ParamsFromModel(config(), defaults_);
  // Hugging Face's lengths count the decoder start token; requests count
  // generated tokens.
  const int limit = config().max_position_embeddings;
  if (r.max_output_tokens) {
    if (*r.max_output_tokens < 1 || *r.max_output_tokens >= limit) {
      return InvalidField("OPTION_OUT_OF_RANGE", "options.max_output_tokens",
                          absl::StrCat("max_output_tokens must be between 1 and ",
                                       limit - 1, ", got ", *r.max_output_tokens));
    }
    p.params.max_length = *r.max_output_tokens + 1;
  }
  p.params.max_length = std::min(p.params.max_length, limit);
  if (r.min_output_tokens) {
    if (*r.min_output_tokens < 0 || *r.min_output_tokens + 1 > p.params.max_length) {
      return InvalidField(
          "OPTION_OUT_OF_RANGE", "options.min_output_tokens",
          absl::StrCat("min_output_tokens must be between 0 and max_output_tokens (",
                       p.params.max_length - 1, "), got ", *r.min_output_tokens));
    }
    p.params.min_length = *r.min_output_tokens + 1;
  }
  if (r.no_repeat_ngram_size) p.params.no_repeat_ngram_size = *r.no_repeat_ngram_size;
  if (r.no_adjacent_repeat_ngram_size) {
    p.params.no_adjacent_repeat_ngram_size = *r.no_adjacent_repeat_ngram_size;
  }
  if (r.repetition_penalty) p.params.repetition_penalty = *r.repetition_penalty;
  if (r.encoder_repetition_penalty) {
    p.params.encoder_repetition_penalty = *r.encoder_repetition_penalty;
  }
  p.search.num_beams = r.num_beams.value_or(r.sampling ? 1 : defaults_.num_beams);
  p.search.length_penalty = r.length_penalty.value_or(defaults_.length_penalty);
  p.search.early_stopping = defaults_.early_stopping;
  p.search.num_return_sequences = r.num_return_sequences;
  p.search.sampling = r.sampling;
  return p;
}

absl::StatusOr<std::unique_ptr<GenerationJob>> TextGenerator::Start(
    PreparedGeneration prepared, bool return_alignment) const {
  std::vector<PreparedGeneration> one;
  one.push_back(std::move(prepared));
  return std::move(StartBatch(std::move(one), {return_alignment}).front());
}

std::vector<absl::StatusOr<std::unique_ptr<GenerationJob>>> TextGenerator::StartBatch(
    std::vector<PreparedGeneration> prepared,
    const std::vector<bool>& return_alignment) const {
  std::vector<absl::StatusOr<std::unique_ptr<GenerationJob>>> jobs;
  // The requests that can be encoded: tokenized, and of a length the model
  // takes; the others end here with their own error.
  std::vector<std::span<const int32_t>> sources;
  std::vector<size_t> encoded;
  for (size_t i = 0; i < prepared.size(); ++i) {
    absl::Status s = Tokenize(&prepared[i]);
    if (s.ok()) {
      s = model_->CheckInputLength(static_cast<int>(prepared[i].source_ids.size()));
    }
    if (!s.ok()) {
      jobs.push_back(s);
      continue;
    }
    auto job = std::make_unique<GenerationJob>();
    job->prepared_ = std::move(prepared[i]);
    job->return_alignment_ = return_alignment[i];
    sources.push_back(job->prepared_.source_ids);
    encoded.push_back(jobs.size());
    jobs.push_back(std::move(job));
  }
  if (sources.empty()) return jobs;
  auto encoders = model_->EncodeBatch(sources);
  for (size_t j = 0; j < encoded.size(); ++j) {
    auto& slot = jobs[encoded[j]];
    if (!encoders.ok()) {
      slot = encoders.status();
      continue;
    }
    GenerationJob& job = **slot;
    job.encoder_ = (*encoders)[j];
    auto search = generation::StartSearch(*model_, job.encoder_, job.prepared_.params,
                                          job.prepared_.search);
    if (search.ok()) {
      job.search_ = *std::move(search);
    } else {
      slot = search.status();
    }
  }
  return jobs;
}

absl::Status TextGenerator::Step(std::span<GenerationJob* const> jobs) const {
  std::vector<generation::Search*> searches;
  searches.reserve(jobs.size());
  for (GenerationJob* job : jobs) searches.push_back(job->search_.get());
  return generation::StepSearches(*model_, searches);
}

absl::StatusOr<GenerationResult> TextGenerator::Finish(
    GenerationJob& job, const std::function<absl::Status()>& between_steps) const {
  absl::StatusOr<GenerationResult> result =
      BuildResult(job.prepared_, job.encoder_, job.search_->Results(),
                  job.return_alignment_, between_steps);
  job.encoder_.reset();
  job.search_.reset();  // frees the caches before the answer goes out
  return result;
}

absl::StatusOr<GenerationResult> TextGenerator::BuildResult(
    const PreparedGeneration& prepared,
    std::shared_ptr<const models::EncoderOutput> encoder,
    const std::vector<generation::Hypothesis>& hypotheses, bool return_alignment,
    const std::function<absl::Status()>& between_steps) const {
  GenerationResult result;
  std::vector<std::vector<float>> alignments;
  if (return_alignment) {
    std::vector<std::vector<int>> outputs;
    for (const generation::Hypothesis& h : hypotheses) outputs.push_back(h.ids);
    auto computed = model_->Alignments(encoder, outputs, between_steps);
    if (!computed.ok()) return computed.status();
    alignments = *std::move(computed);
  }
  result.source_tokens = prepared.source_tokens;
  result.truncated = prepared.truncated;
  for (size_t o = 0; o < hypotheses.size(); ++o) {
    const generation::Hypothesis& h = hypotheses[o];
    GeneratedText out;
    out.score = h.score;
    const std::span<const int> generated(h.ids.data() + 1, h.ids.size() - 1);
    out.text = tokenizer_->Decode(generated);
    // Offsets of each generated token in the output text: decode growing
    // prefixes (the detokenizer joins pieces, so a token's text depends on
    // its neighbours).
    int previous = 0;
    for (size_t i = 0; i < generated.size(); ++i) {
      const int end =
          static_cast<int>(tokenizer_->Decode(generated.subspan(0, i + 1)).size());
      out.tokens.push_back({generated[i], tokenizer_->Piece(generated[i]), previous,
                            std::max(previous, end)});
      previous = std::max(previous, end);
    }
    if (return_alignment) out.alignment = std::move(alignments[o]);
    result.output_tokens += static_cast<int>(generated.size());
    result.outputs.push_back(std::move(out));
  }
  return result;
}

absl::StatusOr<GenerationResult> TextGenerator::Generate(
    const GenerationRequest& request) const {
  auto prepared = Prepare(request);
  if (!prepared.ok()) return prepared.status();
  auto job = Start(*std::move(prepared), request.return_alignment);
  if (!job.ok()) return job.status();
  generation::Search* searches[1] = {(*job)->search_.get()};
  if (absl::Status s = generation::RunToEnd(*model_, searches); !s.ok()) return s;
  return Finish(**job);
}

}  // namespace heed::pipelines
