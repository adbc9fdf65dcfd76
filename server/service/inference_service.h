// heed.v1.Inference on gRPC's callback API: one reactor per call, no thread
// per call. Handlers validate, hand a work item to the model's scheduler and
// answer when it completes; every call ends exactly once with a status from
// ToGrpcStatus, and is counted in the request metrics at that one place.
#ifndef HEED_SERVER_SERVICE_INFERENCE_SERVICE_H_
#define HEED_SERVER_SERVICE_INFERENCE_SERVICE_H_

#include <optional>
#include <string>
#include <vector>

#include "heed/v1/inference.grpc.pb.h"
#include "server/engine/model_host.h"
#include "server/logging/request_log.h"
#include "server/metrics/server_metrics.h"
#include "server/service/reactors.h"
#include "server/service/side_worker.h"

namespace heed::server {

class InferenceService final : public heed::v1::Inference::CallbackService {
 public:
  // host, metrics and request_log (which may be null) must outlive the
  // service. `auth_tokens`: accepted bearer tokens; empty means no
  // authentication. `stream_limits` bound what a stream holds for a client
  // that does not read.
  InferenceService(ModelHost* host, ServerMetrics* metrics,
                   std::vector<std::string> auth_tokens = {},
                   const RequestLog* request_log = nullptr,
                   StreamLimits stream_limits = {});

  grpc::ServerUnaryReactor* Translate(grpc::CallbackServerContext* context,
                                      const heed::v1::TranslateRequest* request,
                                      heed::v1::TranslateResponse* response) override;
  grpc::ServerWriteReactor<heed::v1::TranslateStreamResponse>* TranslateStream(
      grpc::CallbackServerContext* context,
      const heed::v1::TranslateRequest* request) override;
  grpc::ServerUnaryReactor* Summarize(grpc::CallbackServerContext* context,
                                      const heed::v1::SummarizeRequest* request,
                                      heed::v1::SummarizeResponse* response) override;
  grpc::ServerWriteReactor<heed::v1::SummarizeStreamResponse>* SummarizeStream(
      grpc::CallbackServerContext* context,
      const heed::v1::SummarizeRequest* request) override;
  grpc::ServerUnaryReactor* ClassifySentiment(
      grpc::CallbackServerContext* context,
      const heed::v1::ClassifySentimentRequest* request,
      heed::v1::ClassifySentimentResponse* response) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const heed::v1::ListModelsRequest* request,
                                       heed::v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* Tokenize(grpc::CallbackServerContext* context,
                                     const heed::v1::TokenizeRequest* request,
                                     heed::v1::TokenizeResponse* response) override;
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const heed::v1::GetServerInfoRequest* request,
                                          heed::v1::ServerInfo* response) override;

  // What GetServerInfo answers (set once, before the server starts);
  // authentication_required is filled in here.
  void SetServerInfo(heed::v1::ServerInfo info);

  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const heed::v1::GetModelRequest* request,
                                     heed::v1::Model* response) override;

 private:
  // What a call carries to the one place it is recorded.
  struct Call {
    grpc::CallbackServerContext* context;
    const char* method;  // e.g. "Translate"
    pipelines::Task task;
    absl::Time arrival;
  };

  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* GenerateUnary(const Call& call, const Request* request,
                                          Response* response);
  template <typename Request, typename StreamResponse>
  grpc::ServerWriteReactor<StreamResponse>* GenerateStream(const Call& call,
                                                           const Request* request);
  // Authenticates, resolves the model and builds the work item; an error is
  // the call's status and is already recorded.
  template <typename Request>
  absl::StatusOr<std::shared_ptr<GenerationWork>> MakeGenerationWork(
      const Call& call, const Request& request, ServedModel** model,
      std::optional<uint64_t>* seed);
  template <typename Request>
  absl::StatusOr<std::shared_ptr<GenerationWork>> BuildGenerationWork(
      grpc::CallbackServerContext* context, const Request& request, pipelines::Task task,
      ServedModel** model, std::optional<uint64_t>* seed);
  // The one place where a finished call is counted, logged and given its
  // trailing metadata (server-timing, and the caller's traceparent echoed);
  // runs before the call's status is sent. `model` counts as "unknown" unless
  // it names a loaded model, so callers cannot add label values; `work` is
  // null for calls that never reached a model's queue (rejections), which
  // are counted but kept out of the latency histograms.
  void Record(const Call& call, const std::string& model, const absl::Status& status,
              const WorkItem* work, int input_tokens, int output_tokens);

  // Re-registers the methods with lenient request parsing
  // (lenient_parsing.cc). `task` is empty for the catalog methods, whose
  // calls the metrics do not count.
  void UseLenientParsing();
  template <typename Lenient, typename Request, typename Response>
  void MarkLenientUnary(const char* method, std::optional<pipelines::Task> task,
                        grpc::ServerUnaryReactor* (InferenceService::*handler)(
                            grpc::CallbackServerContext*, const Request*, Response*));
  template <typename Lenient, typename Request, typename Response>
  void MarkLenientStream(const char* method, pipelines::Task task,
                         grpc::ServerWriteReactor<Response>* (InferenceService::*handler)(
                             grpc::CallbackServerContext*, const Request*));

  // UNAUTHENTICATED unless the call carries an accepted bearer token.
  absl::Status Authenticate(const grpc::CallbackServerContext* context) const;

  ModelHost* host_;
  ServerMetrics* metrics_;
  std::vector<std::string> auth_tokens_;
  const RequestLog* request_log_;
  const StreamLimits stream_limits_;
  heed::v1::ServerInfo server_info_;
  // Tokenize's texts are split here, off gRPC's threads (at most 64 waiting).
  SideWorker tokenize_worker_{64};
};

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_INFERENCE_SERVICE_H_
