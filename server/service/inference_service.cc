#include "server/service/inference_service.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/pipelines/status_details.h"
#include "server/service/reactors.h"
#include "server/service/request_validation.h"
#include "server/service/response_builders.h"
#include "server/service/status_mapping.h"
#include "server/service/trace_context.h"

namespace heed::server {
namespace {

absl::Time DeadlineOf(const grpc::CallbackServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max())
    return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

}  // namespace

InferenceService::InferenceService(ModelHost* host, ServerMetrics* metrics,
                                   std::vector<std::string> auth_tokens,
                                   const RequestLog* request_log,
                                   StreamLimits stream_limits)
    : host_(host),
      metrics_(metrics),
      auth_tokens_(std::move(auth_tokens)),
      request_log_(request_log),
      stream_limits_(stream_limits) {
  UseLenientParsing();
}

absl::Status InferenceService::Authenticate(
    const grpc::CallbackServerContext* context) const {
  if (auth_tokens_.empty()) return absl::OkStatus();
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return pipelines::WithReason(
        absl::UnauthenticatedError("missing 'authorization: Bearer <token>' metadata"),
        "TOKEN_MISSING");
  }
  const std::string value(it->second.data(), it->second.size());
  for (const std::string& token : auth_tokens_) {
    if (value == "Bearer " + token) return absl::OkStatus();
  }
  return pipelines::WithReason(
      absl::UnauthenticatedError("the bearer token is not accepted"), "TOKEN_REJECTED");
}

void InferenceService::Record(const Call& call, const std::string& model,
                              const absl::Status& status, const WorkItem* work,
                              int input_tokens, int output_tokens) {
  const absl::Time now = absl::Now();
  const std::string model_label =
      !model.empty() && host_->Find(model) != nullptr ? model : "unknown";
  const std::string task_label = TaskLabel(call.task);
  const std::string code(absl::StatusCodeToString(status.code()));
  metrics_->requests_total()
      .Add({{"model", model_label}, {"task", task_label}, {"code", code}})
      .Increment();
  const bool started = work != nullptr && work->started_at != absl::InfiniteFuture();
  // Rejected calls never queued; admitted ones queued until their first batch
  // (or until now, if the deadline or a cancellation ended them in the queue).
  const absl::Duration queue = work == nullptr ? absl::ZeroDuration()
                               : started       ? work->started_at - call.arrival
                                               : now - call.arrival;
  const absl::Duration compute = started ? now - work->started_at : absl::ZeroDuration();
  const absl::Duration total = now - call.arrival;
  if (work != nullptr) {
    metrics_->request_duration()
        .Add({{"model", model_label}, {"task", task_label}},
             ServerMetrics::LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(total));
  }
  if (started) {
    metrics_->queue_duration()
        .Add({{"model", model_label}}, ServerMetrics::StepBuckets())
        .Observe(absl::ToDoubleSeconds(queue));
  }
  if (status.ok()) {
    metrics_->input_tokens_total().Add({{"model", model_label}}).Increment(input_tokens);
    metrics_->request_input_tokens()
        .Add({{"model", model_label}}, ServerMetrics::TokenBuckets())
        .Observe(input_tokens);
    if (call.task != pipelines::Task::kSentiment) {
      metrics_->output_tokens_total()
          .Add({{"model", model_label}})
          .Increment(output_tokens);
      metrics_->request_output_tokens()
          .Add({{"model", model_label}}, ServerMetrics::TokenBuckets())
          .Observe(output_tokens);
      if (started && output_tokens > 0) {
        metrics_->time_per_output_token()
            .Add({{"model", model_label}}, ServerMetrics::StepBuckets())
            .Observe(absl::ToDoubleSeconds(compute) / output_tokens);
      }
    }
  }
  // Trailing metadata: where the time went, and the caller's trace context.
  const auto& metadata = call.context->client_metadata();
  std::string trace_id;
  if (auto it = metadata.find("traceparent"); it != metadata.end()) {
    const std::string traceparent(it->second.data(), it->second.size());
    trace_id = TraceIdFromTraceparent(traceparent);
    if (!trace_id.empty()) call.context->AddTrailingMetadata("traceparent", traceparent);
  }
  call.context->AddTrailingMetadata(
      "server-timing", absl::StrFormat("queue;dur=%.3f, compute;dur=%.3f, total;dur=%.3f",
                                       absl::ToDoubleMilliseconds(queue),
                                       absl::ToDoubleMilliseconds(compute),
                                       absl::ToDoubleMilliseconds(total)));
  // gRPC's client retry policy waits this long before its next attempt.
  if (std::optional<absl::Duration> delay = RetryDelayOf(status)) {
    call.context->AddTrailingMetadata("grpc-retry-pushback-ms",
                                      absl::StrCat(absl::ToInt64Milliseconds(*delay)));
  }
  if (request_log_ != nullptr && request_log_->enabled()) {
    RequestLogRecord record;
    record.method = call.method;
    record.model = model_label;
    record.task = task_label;
    record.code = status.code();
    record.input_tokens = input_tokens;
    record.output_tokens = output_tokens;
    record.queue_ms = absl::ToDoubleMilliseconds(queue);
    record.compute_ms = absl::ToDoubleMilliseconds(compute);
    record.total_ms = absl::ToDoubleMilliseconds(total);
    record.peer = call.context->peer();
    record.trace_id = trace_id;
    request_log_->Write(record);
  }
}

template <typename Request>
absl::StatusOr<std::shared_ptr<GenerationWork>> InferenceService::MakeGenerationWork(
    const Call& call, const Request& request, ServedModel** model,
    std::optional<uint64_t>* seed) {
  absl::StatusOr<std::shared_ptr<GenerationWork>> work =
      BuildGenerationWork(call.context, request, call.task, model, seed);
  if (!work.ok()) {
    Record(call, *model != nullptr ? (*model)->info.name : request.model(), work.status(),
           nullptr, 0, 0);
  }
  return work;
}

template <typename Request>
absl::StatusOr<std::shared_ptr<GenerationWork>> InferenceService::BuildGenerationWork(
    grpc::CallbackServerContext* context, const Request& request, pipelines::Task task,
    ServedModel** model, std::optional<uint64_t>* seed) {
  if (absl::Status s = Authenticate(context); !s.ok()) return s;
  uint64_t drawn_seed = 0;
  auto pipeline_request =
      ToGenerationRequest(request.text(), request.options(), request.truncate_input(),
                          request.return_alignment(), &drawn_seed);
  if (!pipeline_request.ok()) return pipeline_request.status();
  if (pipeline_request->sampling) *seed = drawn_seed;
  absl::StatusOr<ServedModel*> served = host_->Resolve(request.model(), task);
  if (!served.ok()) return served.status();
  *model = *served;
  // Options only: the runner tokenizes on the compute side.
  auto prepared = (*served)->loaded->generator->PrepareOptions(*pipeline_request);
  if (!prepared.ok()) return prepared.status();
  if (const int64_t cost = GenerationCost(*prepared, request.return_alignment());
      cost > (*served)->max_request_cost) {
    absl::Status over = absl::InvalidArgumentError(
        absl::StrCat("the request's cost is ", cost,
                     " (beams x max output tokens, plus hypotheses x "
                     "max output tokens for return_alignment); this model's limit "
                     "(--max_request_cost) is ",
                     (*served)->max_request_cost,
                     ": lower beam_size, num_return_sequences or max_output_tokens"));
    over = pipelines::WithMetadata(std::move(over), "limit",
                                   absl::StrCat((*served)->max_request_cost));
    return pipelines::WithReason(std::move(over), "COST_OVER_LIMIT");
  }
  auto work = std::make_shared<GenerationWork>();
  work->prepared = std::move(*prepared);
  work->return_alignment = request.return_alignment();
  work->deadline = DeadlineOf(context);
  work->priority = PriorityRank(request.priority());
  work->size = GenerationWorkSize(
      EstimatedTokens(request.text(), (*served)->info.max_input_tokens), work->prepared);
  return work;
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* InferenceService::GenerateUnary(const Call& call,
                                                          const Request* request,
                                                          Response* response) {
  auto* reactor = new UnaryReactor();
  ServedModel* model = nullptr;
  std::optional<uint64_t> seed;
  auto work = MakeGenerationWork(call, *request, &model, &seed);
  if (!work.ok()) {
    reactor->Finish(ToGrpcStatus(work.status()));
    return reactor;
  }
  (*work)->on_done = [this, reactor, response, model, call, seed](
                         const absl::Status& status, GenerationWork& w) {
    if (status.ok()) FillGenerationResponse(w, {model, call.arrival, seed}, response);
    Record(call, model->info.name, status, &w,
           static_cast<int>(w.prepared.source_ids.size()), w.result.output_tokens);
    reactor->Finish(ToGrpcStatus(status));
  };
  reactor->Watch(*work);
  if (absl::Status s = model->scheduler->Submit(*work); !s.ok()) {
    Record(call, model->info.name, s, nullptr, 0, 0);
    reactor->Finish(ToGrpcStatus(s));
  }
  return reactor;
}

template <typename Request, typename StreamResponse>
grpc::ServerWriteReactor<StreamResponse>* InferenceService::GenerateStream(
    const Call& call, const Request* request) {
  auto* reactor = new StreamReactor<StreamResponse>(call.context, stream_limits_);
  const absl::Time arrival = call.arrival;
  ServedModel* model = nullptr;
  std::optional<uint64_t> seed;
  auto work = MakeGenerationWork(call, *request, &model, &seed);
  if (!work.ok()) {
    reactor->End(ToGrpcStatus(work.status()));
    return reactor;
  }
  auto& ttft = metrics_->time_to_first_token().Add({{"model", model->info.name}},
                                                   ServerMetrics::StepBuckets());
  // Sends the part of the text that is new since the last message; a
  // detokenizer may rewrite the end of the text, so only a growing prefix is sent.
  auto sent = std::make_shared<std::string>();
  (*work)->on_progress = [reactor, sent, arrival, &ttft](const std::string& text, int) {
    if (text.size() <= sent->size() || text.compare(0, sent->size(), *sent) != 0) return;
    if (sent->empty()) ttft.Observe(absl::ToDoubleSeconds(absl::Now() - arrival));
    StreamResponse message;
    message.mutable_delta()->set_text(text.substr(sent->size()));
    *sent = text;
    reactor->Send(std::move(message));
  };
  (*work)->on_done = [this, reactor, model, call, seed, sent](const absl::Status& status,
                                                              GenerationWork& w) {
    const absl::Time arrival = call.arrival;
    if (status.ok()) {
      StreamResponse message;
      FillGenerationResponse(w, {model, arrival, seed}, message.mutable_done());
      const std::string& text = message.done().text();
      if (text.size() > sent->size() && text.compare(0, sent->size(), *sent) == 0) {
        StreamResponse rest;  // whatever the deltas have not carried yet
        rest.mutable_delta()->set_text(text.substr(sent->size()));
        reactor->Send(std::move(rest));
      }
      reactor->Send(std::move(message));
    }
    // A stream that stopped because its client did not read ends with that
    // reason even if the last step finished the work.
    const absl::Status stalled = reactor->stalled();
    const absl::Status& outcome = stalled.ok() ? status : stalled;
    Record(call, model->info.name, outcome, &w,
           static_cast<int>(w.prepared.source_ids.size()), w.result.output_tokens);
    reactor->End(ToGrpcStatus(outcome));
  };
  reactor->Watch(*work);
  if (absl::Status s = model->scheduler->Submit(*work); !s.ok()) {
    Record(call, model->info.name, s, nullptr, 0, 0);
    reactor->End(ToGrpcStatus(s));
  }
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::Translate(
    grpc::CallbackServerContext* context, const heed::v1::TranslateRequest* request,
    heed::v1::TranslateResponse* response) {
  return GenerateUnary(
      Call{context, "Translate", pipelines::Task::kTranslation, absl::Now()}, request,
      response);
}

grpc::ServerWriteReactor<heed::v1::TranslateStreamResponse>*
InferenceService::TranslateStream(grpc::CallbackServerContext* context,
                                  const heed::v1::TranslateRequest* request) {
  return GenerateStream<heed::v1::TranslateRequest, heed::v1::TranslateStreamResponse>(
      Call{context, "TranslateStream", pipelines::Task::kTranslation, absl::Now()},
      request);
}

grpc::ServerUnaryReactor* InferenceService::Summarize(
    grpc::CallbackServerContext* context, const heed::v1::SummarizeRequest* request,
    heed::v1::SummarizeResponse* response) {
  return GenerateUnary(
      Call{context, "Summarize", pipelines::Task::kSummarization, absl::Now()}, request,
      response);
}

grpc::ServerWriteReactor<heed::v1::SummarizeStreamResponse>*
InferenceService::SummarizeStream(grpc::CallbackServerContext* context,
                                  const heed::v1::SummarizeRequest* request) {
  return GenerateStream<heed::v1::SummarizeRequest, heed::v1::SummarizeStreamResponse>(
      Call{context, "SummarizeStream", pipelines::Task::kSummarization, absl::Now()},
      request);
}

grpc::ServerUnaryReactor* InferenceService::ClassifySentiment(
    grpc::CallbackServerContext* context,
    const heed::v1::ClassifySentimentRequest* request,
    heed::v1::ClassifySentimentResponse* response) {
  auto* reactor = new UnaryReactor();
  const Call call{context, "ClassifySentiment", pipelines::Task::kSentiment, absl::Now()};
  const pipelines::Task task = call.task;
  auto fail = [&](const std::string& model, const absl::Status& status) {
    Record(call, model, status, nullptr, 0, 0);
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  };
  if (absl::Status s = Authenticate(context); !s.ok()) return fail(request->model(), s);
  if (request->texts().empty() || request->texts_size() > kMaxTextsPerRequest) {
    return fail(request->model(),
                pipelines::InvalidField(
                    request->texts().empty() ? "EMPTY_INPUT" : "TOO_MANY_TEXTS", "texts",
                    absl::StrCat("texts must hold 1 to ", kMaxTextsPerRequest,
                                 " texts, got ", request->texts_size())));
  }
  for (int i = 0; i < request->texts_size(); ++i) {
    if (absl::Status s = ValidateText(request->texts(i), absl::StrCat("texts[", i, "]"));
        !s.ok()) {
      return fail(request->model(), s);
    }
  }
  absl::StatusOr<ServedModel*> model = host_->Resolve(request->model(), task);
  if (!model.ok()) return fail(request->model(), model.status());
  ServedModel* served = *model;
  // The runner tokenizes on the compute side; the size is an estimate until then.
  absl::StatusOr<pipelines::LongInput> long_input =
      LongInputOf(*request, served->long_input);
  if (!long_input.ok()) return fail(served->info.name, long_input.status());
  auto work = std::make_shared<ClassificationWork>();
  work->long_input = *long_input;
  // Chunks classifies texts far longer than the model's length.
  const int token_cap = *long_input == pipelines::LongInput::kChunks
                            ? pipelines::SentimentClassifier::kMaxChunkedTokens
                            : served->info.max_input_tokens;
  work->size = 0;
  for (const std::string& text : request->texts()) {
    work->size += EstimatedTokens(text, token_cap);
    work->inputs.push_back(text);
  }
  work->attributions = request->return_alignment();
  work->deadline = DeadlineOf(context);
  work->priority = PriorityRank(request->priority());
  work->on_done = [this, reactor, response, served, call](const absl::Status& status,
                                                          ClassificationWork& w) {
    int input_tokens = 0;
    for (const auto& t : w.texts) input_tokens += static_cast<int>(t.tokens.size());
    if (status.ok()) {
      FillSentimentResponse(w, {served, call.arrival, std::nullopt}, response);
    }
    Record(call, served->info.name, status, &w, input_tokens, 0);
    reactor->Finish(ToGrpcStatus(status));
  };
  reactor->Watch(work);
  if (absl::Status s = served->scheduler->Submit(work); !s.ok()) {
    return fail(served->info.name, s);
  }
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::ListModels(
    grpc::CallbackServerContext* context, const heed::v1::ListModelsRequest* request,
    heed::v1::ListModelsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = Authenticate(context); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  if (!heed::v1::Task_IsValid(request->task())) {
    reactor->Finish(ToGrpcStatus(pipelines::InvalidField("UNKNOWN_ENUM_VALUE", "task",
                                                         "task: unknown enum value")));
    return reactor;
  }
  for (const ModelInfo& model : host_->List(FromApiTask(request->task()))) {
    FillModel(model, response->add_models());
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::GetModel(
    grpc::CallbackServerContext* context, const heed::v1::GetModelRequest* request,
    heed::v1::Model* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = Authenticate(context); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  if (request->name().empty()) {
    reactor->Finish(ToGrpcStatus(
        pipelines::InvalidField("EMPTY_INPUT", "name", "name: must not be empty")));
    return reactor;
  }
  absl::StatusOr<ModelInfo> model = host_->Describe(request->name());
  if (model.ok()) FillModel(*model, response);
  reactor->Finish(ToGrpcStatus(model.status()));
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::Tokenize(
    grpc::CallbackServerContext* context, const heed::v1::TokenizeRequest* request,
    heed::v1::TokenizeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto fail = [reactor](const absl::Status& status) {
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  };
  if (absl::Status s = Authenticate(context); !s.ok()) return fail(s);
  if (absl::Status s = ValidateText(request->text(), "text"); !s.ok()) return fail(s);
  // The task matters only when no model is named.
  absl::StatusOr<ServedModel*> served = host_->Resolve(
      request->model(),
      request->model().empty() ? FromApiTask(request->task()) : std::nullopt);
  if (!served.ok()) return fail(served.status());
  ServedModel* model = *served;
  // The text is copied: the request does not outlive this handler.
  const bool queued = tokenize_worker_.TrySubmit(
      [context, reactor, text = request->text(), response, model] {
        if (context->IsCancelled()) {
          reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
          return;
        }
        const pipelines::LoadedModel& loaded = *model->loaded;
        const std::vector<tokenizers::Token> tokens =
            loaded.generator != nullptr ? loaded.generator->EncodeSource(text)
                                        : loaded.classifier->Encode(text);
        for (const tokenizers::Token& token : tokens)
          FillToken(token, response->add_tokens());
        FillModelRef(*model, response->mutable_model());
        response->set_max_input_tokens(model->info.max_input_tokens);
        reactor->Finish(grpc::Status::OK);
      });
  if (!queued) {
    return fail(pipelines::WithRetryDelay(
        pipelines::WithReason(absl::ResourceExhaustedError(
                                  "too many Tokenize calls are waiting; retry later"),
                              "QUEUE_FULL"),
        absl::Milliseconds(100)));
  }
  return reactor;
}

void InferenceService::SetServerInfo(heed::v1::ServerInfo info) {
  server_info_ = std::move(info);
  server_info_.set_authentication_required(!auth_tokens_.empty());
}

grpc::ServerUnaryReactor* InferenceService::GetServerInfo(
    grpc::CallbackServerContext* context, const heed::v1::GetServerInfoRequest*,
    heed::v1::ServerInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = Authenticate(context); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  *response = server_info_;
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace heed::server
