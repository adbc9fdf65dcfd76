#include "server/service/response_builders.h"

namespace heed::server {

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  if (d < absl::ZeroDuration() || d == absl::InfiniteDuration()) d = absl::ZeroDuration();
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

void FillTiming(const WorkItem& work, absl::Time arrival, heed::v1::Timing* timing) {
  const absl::Time now = absl::Now();
  const absl::Time started =
      work.started_at == absl::InfiniteFuture() ? now : work.started_at;
  SetDuration(started - work.enqueued_at, timing->mutable_queue_duration());
  SetDuration(now - started, timing->mutable_compute_duration());
  SetDuration(now - arrival, timing->mutable_total_duration());
}

void FillModelRef(const ServedModel& model, heed::v1::ModelRef* ref) {
  ref->set_name(model.info.name);
  ref->set_version(model.info.version);
}

heed::v1::ComputeType ToApiComputeType(ops::ComputeType type) {
  switch (type) {
    case ops::ComputeType::kFloat32:
      return heed::v1::COMPUTE_TYPE_FLOAT32;
    case ops::ComputeType::kBFloat16:
      return heed::v1::COMPUTE_TYPE_BFLOAT16;
    case ops::ComputeType::kInt8:
      return heed::v1::COMPUTE_TYPE_INT8;
  }
  return heed::v1::COMPUTE_TYPE_UNSPECIFIED;
}

void FillModel(const ModelInfo& info, heed::v1::Model* model) {
  model->set_name(info.name);
  model->set_task(ToApiTask(info.task));
  model->set_architecture(info.architecture);
  model->set_version(info.version);
  model->set_compute_type(ToApiComputeType(info.compute.used));
  model->set_requested_compute_type(ToApiComputeType(info.compute.requested));
  model->set_compute_type_native(info.compute.native);
  model->set_compute_detail(info.compute.detail);
  model->set_isa(info.isa);
  model->set_max_input_tokens(info.max_input_tokens);
  // The engine lists a model once it is loaded and warmed up.
  model->set_ready(true);
  model->set_is_default(info.is_default);
  for (const std::string& label : info.labels) model->add_labels(label);
}

heed::v1::Task ToApiTask(pipelines::Task task) {
  switch (task) {
    case pipelines::Task::kTranslation:
      return heed::v1::TASK_TRANSLATION;
    case pipelines::Task::kSummarization:
      return heed::v1::TASK_SUMMARIZATION;
    case pipelines::Task::kSentiment:
      return heed::v1::TASK_SENTIMENT;
  }
  return heed::v1::TASK_UNSPECIFIED;
}

std::optional<pipelines::Task> FromApiTask(heed::v1::Task task) {
  switch (task) {
    case heed::v1::TASK_TRANSLATION:
      return pipelines::Task::kTranslation;
    case heed::v1::TASK_SUMMARIZATION:
      return pipelines::Task::kSummarization;
    case heed::v1::TASK_SENTIMENT:
      return pipelines::Task::kSentiment;
    default:
      return std::nullopt;
  }
}

void FillToken(const tokenizers::Token& token, heed::v1::Token* out) {
  out->set_piece(token.piece);
  out->set_id(token.id);
  out->set_begin(token.begin);
  out->set_end(token.end);
}

template <typename Response>
void FillGenerationResponse(const GenerationWork& work, const ResponseContext& ctx,
                            Response* response) {
  const pipelines::GenerationResult& result = work.result;
  for (const pipelines::GeneratedText& out : result.outputs) {
    heed::v1::Hypothesis* h = response->add_hypotheses();
    h->set_text(out.text);
    h->set_score(out.score);
    if (work.return_alignment) {
      for (const auto& t : out.tokens) FillToken(t, h->add_tokens());
      heed::v1::Alignment* a = h->mutable_alignment();
      for (const auto& t : result.source_tokens) FillToken(t, a->add_source_tokens());
      for (const auto& t : out.tokens) FillToken(t, a->add_target_tokens());
      a->mutable_weights()->Add(out.alignment.begin(), out.alignment.end());
    }
  }
  if (!result.outputs.empty()) response->set_text(result.outputs[0].text);
  FillModelRef(*ctx.model, response->mutable_model());
  response->mutable_usage()->set_input_tokens(
      static_cast<int>(result.source_tokens.size()));
  response->mutable_usage()->set_output_tokens(result.output_tokens);
  FillTiming(work, ctx.arrival, response->mutable_timing());
  response->set_input_truncated(result.truncated);
  if (ctx.seed) response->set_seed(*ctx.seed);
}

template void FillGenerationResponse(const GenerationWork&, const ResponseContext&,
                                     heed::v1::TranslateResponse*);
template void FillGenerationResponse(const GenerationWork&, const ResponseContext&,
                                     heed::v1::SummarizeResponse*);

void FillSentimentResponse(const ClassificationWork& work, const ResponseContext& ctx,
                           heed::v1::ClassifySentimentResponse* response) {
  const std::vector<std::string>& labels = ctx.model->loaded->classifier->labels();
  int input_tokens = 0;
  for (const pipelines::Classification& c : work.texts) {
    heed::v1::SentimentResult* r = response->add_results();
    r->set_label(labels[c.label]);
    r->set_score(c.probabilities[c.label]);
    for (size_t i = 0; i < labels.size(); ++i) {
      heed::v1::LabelScore* s = r->add_scores();
      s->set_label(labels[i]);
      s->set_score(c.probabilities[i]);
    }
    if (work.attributions) {
      for (size_t i = 0; i < c.tokens.size() && i < c.attributions.size(); ++i) {
        heed::v1::TokenAttribution* a = r->add_attributions();
        FillToken(c.tokens[i], a->mutable_token());
        a->set_weight(c.attributions[i]);
      }
    }
    r->set_input_truncated(c.truncated);
    r->set_windows(c.rows());
    input_tokens += static_cast<int>(c.tokens.size());
  }
  FillModelRef(*ctx.model, response->mutable_model());
  response->mutable_usage()->set_input_tokens(input_tokens);
  FillTiming(work, ctx.arrival, response->mutable_timing());
}

}  // namespace heed::server
