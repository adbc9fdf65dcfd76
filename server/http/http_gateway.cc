#include "server/http/http_gateway.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <vector>

#include "CivetServer.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/blocking_counter.h"
#include "civetweb.h"
#include "core/pipelines/status_details.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "heed/v1/inference.grpc.pb.h"
#include "server/http/hf_task_format.h"
#include "server/http/http_errors.h"
#include "server/service/request_validation.h"
#include "server/service/status_mapping.h"

namespace heed::server {
namespace {

using nlohmann::json;

constexpr char kJson[] = "application/json";

// The status of the response this thread is sending (each civetweb thread
// serves one request at a time), for the metrics.
thread_local int response_status = 0;

void StartResponse(mg_connection* conn, int status) {
  response_status = status;
  mg_response_header_start(conn, status);
}

// What one request carries into a gRPC call.
struct Request {
  mg_connection* conn;
  std::string path;
  std::string query;
  std::string body;
};

std::string Header(mg_connection* conn, const char* name) {
  const char* value = mg_get_header(conn, name);
  return value == nullptr ? "" : value;
}

void Send(mg_connection* conn, int status, const std::string& body,
          const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  StartResponse(conn, status);
  mg_response_header_add(conn, "Content-Type", kJson, -1);
  const std::string length = std::to_string(body.size());
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  for (const auto& [name, value] : headers) {
    mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
  }
  mg_response_header_send(conn);
  mg_write(conn, body.data(), body.size());
}

void SendError(mg_connection* conn, const grpc::Status& status) {
  const HttpError error = HttpErrorOf(status);
  std::vector<std::pair<std::string, std::string>> headers;
  if (error.retry_after_seconds) {
    headers.emplace_back("Retry-After", std::to_string(*error.retry_after_seconds));
  }
  Send(conn, error.status, error.body, headers);
}

void SendError(mg_connection* conn, const absl::Status& status) {
  SendError(conn, ToGrpcStatus(status));
}

// HTTP-only failures get the same JSON shape, with their own status.
void SendHttpOnlyError(mg_connection* conn, int http_status, absl::string_view reason,
                       const std::string& message) {
  const json body = {
      {"error", message}, {"code", "INVALID_ARGUMENT"}, {"reason", reason}};
  Send(conn, http_status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

absl::Status InvalidJson(const std::string& type, absl::string_view why) {
  return pipelines::WithReason(absl::InvalidArgumentError(absl::StrCat(
                                   "the body is not a valid ", type, " in JSON: ", why)),
                               "INVALID_JSON");
}

template <typename Message>
absl::Status ParseJson(const std::string& body, Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt option is an error
  const auto status = google::protobuf::util::JsonStringToMessage(
      body.empty() ? "{}" : body, message, options);
  if (!status.ok()) {
    return InvalidJson(Message::descriptor()->full_name(), std::string(status.message()));
  }
  return absl::OkStatus();
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

// The route label of a path: one of a fixed set, so that callers cannot add
// label values.
std::string RouteLabel(absl::string_view path) {
  static const char* const kRoutes[] = {"/healthz",
                                        "/readyz",
                                        "/translation",
                                        "/summarization",
                                        "/text-classification",
                                        "/sentiment-analysis",
                                        "/v1/Translate",
                                        "/v1/TranslateStream",
                                        "/v1/Summarize",
                                        "/v1/SummarizeStream",
                                        "/v1/ClassifySentiment",
                                        "/v1/ListModels",
                                        "/v1/GetModel",
                                        "/v1/GetServerInfo",
                                        "/v1/Tokenize"};
  for (const char* route : kRoutes) {
    if (path == route) return route;
  }
  if (absl::StartsWith(path, "/models/")) return "/models/{name}";
  return "other";
}

}  // namespace

class HttpGateway::Router : public CivetHandler {
 public:
  Router(const HttpGatewayOptions& options, std::shared_ptr<grpc::Channel> channel)
      : options_(options),
        inference_(heed::v1::Inference::NewStub(channel)),
        health_(grpc::health::v1::Health::NewStub(channel)) {}

  bool handleGet(CivetServer*, mg_connection* conn) override {
    const mg_request_info* info = mg_get_request_info(conn);
    const std::string path = info->local_uri == nullptr ? "" : info->local_uri;
    const std::string query = info->query_string == nullptr ? "" : info->query_string;
    response_status = 0;
    if (path == "/healthz") {
      Health(conn, "liveness");
    } else if (path == "/readyz") {
      Ready(conn, query);
    } else {
      NotFound(conn, path);
    }
    Count(path);
    return true;
  }

  bool handlePost(CivetServer*, mg_connection* conn) override {
    const mg_request_info* info = mg_get_request_info(conn);
    Request request{conn, info->local_uri == nullptr ? "" : info->local_uri,
                    info->query_string == nullptr ? "" : info->query_string, ""};
    response_status = 0;
    if (ReadBody(conn, info->content_length, &request.body)) Route(request);
    Count(request.path);
    return true;
  }

 private:
  void Count(const std::string& path) const {
    if (options_.requests == nullptr || response_status == 0) return;
    options_.requests
        ->Add({{"route", RouteLabel(path)}, {"code", std::to_string(response_status)}})
        .Increment();
  }

  // Reads the body, or answers 413 and returns false.
  bool ReadBody(mg_connection* conn, long long content_length, std::string* body) {
    if (content_length > options_.max_body_bytes) {
      SendHttpOnlyError(conn, 413, "BODY_TOO_LARGE",
                        absl::StrCat("the body is ", content_length,
                                     " bytes; the limit is ", options_.max_body_bytes));
      return false;
    }
    char buffer[16384];
    while (true) {
      const int n = mg_read(conn, buffer, sizeof(buffer));
      if (n <= 0) break;
      body->append(buffer, n);
      if (static_cast<int64_t>(body->size()) > options_.max_body_bytes) {
        SendHttpOnlyError(conn, 413, "BODY_TOO_LARGE",
                          absl::StrCat("the body is over the limit of ",
                                       options_.max_body_bytes, " bytes"));
        return false;
      }
    }
    return true;
  }

  // Deadline, credentials and trace context of the HTTP request, for its call.
  void Prepare(mg_connection* conn, grpc::ClientContext* context) const {
    absl::Duration deadline = options_.default_deadline;
    int64_t ms = 0;
    if (absl::SimpleAtoi(Header(conn, "X-Heed-Deadline-Ms"), &ms) && ms > 0) {
      deadline = absl::Milliseconds(ms);
    }
    context->set_deadline(std::chrono::system_clock::now() +
                          absl::ToChronoMilliseconds(deadline));
    for (const char* name : {"Authorization", "traceparent"}) {
      const std::string value = Header(conn, name);
      if (!value.empty()) context->AddMetadata(absl::AsciiStrToLower(name), value);
    }
  }

  void NotFound(mg_connection* conn, const std::string& path) {
    const json body = {{"error", absl::StrCat("no such path: ", path.substr(0, 64))},
                       {"code", "NOT_FOUND"},
                       {"reason", "NO_SUCH_PATH"}};
    Send(conn, 404, body.dump(-1, ' ', false, json::error_handler_t::replace));
  }

  void Health(mg_connection* conn, const std::string& service) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = health_->Check(&context, request, &response);
    if (!status.ok()) return SendError(conn, status);
    const bool serving =
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    const json body = {
        {"status",
         grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status())}};
    Send(conn, serving ? 200 : 503, body.dump());
  }

  void Ready(mg_connection* conn, const std::string& query) {
    char model[512];
    if (mg_get_var(query.data(), query.size(), "model", model, sizeof(model)) <= 0) {
      return Health(conn, "");
    }
    grpc::ClientContext context;
    Prepare(conn, &context);
    heed::v1::GetModelRequest request;
    request.set_name(model);
    heed::v1::Model response;
    const grpc::Status status = inference_->GetModel(&context, request, &response);
    if (!status.ok()) return SendError(conn, status);
    const json body = {{"model", response.name()}, {"ready", response.ready()}};
    Send(conn, response.ready() ? 200 : 503, body.dump());
  }

  void Route(const Request& request) {
    if (absl::StartsWith(request.path, "/v1/")) {
      return CallMethod(request, request.path.substr(4));
    }
    if (absl::StartsWith(request.path, "/models/")) {
      return HfByModel(request, request.path.substr(8));
    }
    static const std::map<std::string, heed::v1::Task> kTaskPaths = {
        {"/translation", heed::v1::TASK_TRANSLATION},
        {"/summarization", heed::v1::TASK_SUMMARIZATION},
        {"/text-classification", heed::v1::TASK_SENTIMENT},
        {"/sentiment-analysis", heed::v1::TASK_SENTIMENT}};
    if (auto it = kTaskPaths.find(request.path); it != kTaskPaths.end()) {
      return Hf(request, "", it->second);
    }
    NotFound(request.conn, request.path);
  }

  template <typename Req, typename Resp>
  void Unary(const Request& request,
             grpc::Status (heed::v1::Inference::Stub::*method)(grpc::ClientContext*,
                                                               const Req&, Resp*)) {
    Req message;
    if (absl::Status s = ParseJson(request.body, &message); !s.ok()) {
      return SendError(request.conn, s);
    }
    grpc::ClientContext context;
    Prepare(request.conn, &context);
    Resp response;
    const grpc::Status status = ((*inference_).*method)(&context, message, &response);
    if (!status.ok()) return SendError(request.conn, status);
    Send(request.conn, 200, ToJson(response));
  }

  // Server-Sent Events: "data: <message JSON>" per message; a failure after
  // the stream began is one "event: error" with the error JSON.
  template <typename Req, typename Msg>
  void Stream(const Request& request,
              std::unique_ptr<grpc::ClientReader<Msg>> (
                  heed::v1::Inference::Stub::*method)(grpc::ClientContext*, const Req&)) {
    Req message;
    if (absl::Status s = ParseJson(request.body, &message); !s.ok()) {
      return SendError(request.conn, s);
    }
    grpc::ClientContext context;
    Prepare(request.conn, &context);
    std::unique_ptr<grpc::ClientReader<Msg>> reader =
        ((*inference_).*method)(&context, message);
    Msg next;
    bool started = false;
    bool client_gone = false;
    while (reader->Read(&next)) {
      if (!started) {
        StartResponse(request.conn, 200);
        mg_response_header_add(request.conn, "Content-Type", "text/event-stream", -1);
        mg_response_header_add(request.conn, "Cache-Control", "no-cache", -1);
        mg_response_header_add(request.conn, "Transfer-Encoding", "chunked", -1);
        mg_response_header_send(request.conn);
        started = true;
      }
      const std::string event = absl::StrCat("data: ", ToJson(next), "\n\n");
      if (mg_send_chunk(request.conn, event.data(), event.size()) <= 0) {
        client_gone = true;
        context.TryCancel();  // the computation stops at its next step
        break;
      }
    }
    const grpc::Status status = reader->Finish();
    if (client_gone) return;
    if (!started) {
      if (!status.ok()) return SendError(request.conn, status);
      Send(request.conn, 200, "");
      return;
    }
    if (!status.ok()) {
      const std::string event =
          absl::StrCat("event: error\ndata: ", HttpErrorOf(status).body, "\n\n");
      mg_send_chunk(request.conn, event.data(), event.size());
    }
    mg_send_chunk(request.conn, "", 0);
  }

  void CallMethod(const Request& request, const std::string& method) {
    using Stub = heed::v1::Inference::Stub;
    if (method == "Translate") return Unary(request, &Stub::Translate);
    if (method == "Summarize") return Unary(request, &Stub::Summarize);
    if (method == "ClassifySentiment") return Unary(request, &Stub::ClassifySentiment);
    if (method == "ListModels") return Unary(request, &Stub::ListModels);
    if (method == "GetModel") return Unary(request, &Stub::GetModel);
    if (method == "GetServerInfo") return Unary(request, &Stub::GetServerInfo);
    if (method == "Tokenize") return Unary(request, &Stub::Tokenize);
    if (method == "TranslateStream") return Stream(request, &Stub::TranslateStream);
    if (method == "SummarizeStream") return Stream(request, &Stub::SummarizeStream);
    NotFound(request.conn, request.path);
  }

  void HfByModel(const Request& request, const std::string& name) {
    grpc::ClientContext context;
    Prepare(request.conn, &context);
    heed::v1::GetModelRequest get;
    get.set_name(name);
    heed::v1::Model model;
    const grpc::Status status = inference_->GetModel(&context, get, &model);
    if (!status.ok()) return SendError(request.conn, status);
    Hf(request, model.name(), model.task());
  }

  // The Hugging Face task formats (hf_task_format.h) over the typed calls.
  void Hf(const Request& request, const std::string& model, heed::v1::Task task) {
    absl::StatusOr<HfRequest> hf = ParseHfRequest(request.body);
    if (!hf.ok()) return SendError(request.conn, hf.status());
    if (static_cast<int>(hf->inputs.size()) > kMaxTextsPerRequest) {
      return SendError(request.conn, pipelines::InvalidField(
                                         "TOO_MANY_TEXTS", "inputs",
                                         absl::StrCat("inputs must hold at most ",
                                                      kMaxTextsPerRequest, " texts")));
    }
    if (task == heed::v1::TASK_SENTIMENT) return HfClassify(request, model, *hf);
    heed::v1::GenerationOptions options;
    bool truncate = false;
    if (absl::Status s = ApplyGenerationParameters(hf->parameters, &options, &truncate);
        !s.ok()) {
      return SendError(request.conn, s);
    }
    if (task == heed::v1::TASK_TRANSLATION) {
      HfGenerate<heed::v1::TranslateRequest, heed::v1::TranslateResponse>(
          request, *hf, model, options, truncate, &TranslationOutput,
          [this](auto* context, auto* call_request, auto* response, auto done) {
            inference_->async()->Translate(context, call_request, response,
                                           std::move(done));
          });
    } else {
      HfGenerate<heed::v1::SummarizeRequest, heed::v1::SummarizeResponse>(
          request, *hf, model, options, truncate, &SummaryOutput,
          [this](auto* context, auto* call_request, auto* response, auto done) {
            inference_->async()->Summarize(context, call_request, response,
                                           std::move(done));
          });
    }
  }

  // One call per input, all started at once (the scheduler batches them),
  // answered in the inputs' order with `output` of each text. `start(context,
  // request, response, done)` starts one call.
  template <typename Req, typename Resp, typename Start>
  void HfGenerate(const Request& request, const HfRequest& hf, const std::string& model,
                  const heed::v1::GenerationOptions& options, bool truncate,
                  json (*output)(const std::string&), Start start) {
    const size_t n = hf.inputs.size();
    std::vector<grpc::ClientContext> contexts(n);
    std::vector<Req> requests(n);
    std::vector<Resp> responses(n);
    std::vector<grpc::Status> statuses(n);
    absl::BlockingCounter pending(static_cast<int>(n));
    for (size_t i = 0; i < n; ++i) {
      Prepare(request.conn, &contexts[i]);
      requests[i].set_text(hf.inputs[i]);
      requests[i].set_model(model);
      requests[i].set_truncate_input(truncate);
      *requests[i].mutable_options() = options;
      start(&contexts[i], &requests[i], &responses[i],
            std::function<void(grpc::Status)>([&, i](grpc::Status status) {
              statuses[i] = std::move(status);
              pending.DecrementCount();
            }));
    }
    pending.Wait();
    json out = json::array();
    for (size_t i = 0; i < n; ++i) {
      if (!statuses[i].ok()) return SendError(request.conn, statuses[i]);
      out.push_back(output(responses[i].text()));
    }
    Send(request.conn, 200, out.dump(-1, ' ', false, json::error_handler_t::replace));
  }

  void HfClassify(const Request& request, const std::string& model, const HfRequest& hf) {
    int top_k = 0;
    bool truncate = false;
    if (absl::Status s = ApplyClassificationParameters(hf.parameters, &top_k, &truncate);
        !s.ok()) {
      return SendError(request.conn, s);
    }
    heed::v1::ClassifySentimentRequest classify;
    for (const std::string& text : hf.inputs) classify.add_texts(text);
    classify.set_model(model);
    if (truncate) classify.set_long_input(heed::v1::LONG_INPUT_TRUNCATE);
    grpc::ClientContext context;
    Prepare(request.conn, &context);
    heed::v1::ClassifySentimentResponse response;
    const grpc::Status status =
        inference_->ClassifySentiment(&context, classify, &response);
    if (!status.ok()) return SendError(request.conn, status);
    json out = json::array();
    for (const auto& result : response.results()) {
      out.push_back(ClassificationOutput(result, top_k));
    }
    Send(request.conn, 200, out.dump(-1, ' ', false, json::error_handler_t::replace));
  }

  const HttpGatewayOptions options_;
  std::unique_ptr<heed::v1::Inference::Stub> inference_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(
    const HttpGatewayOptions& options, std::shared_ptr<grpc::Channel> channel) {
  std::unique_ptr<HttpGateway> gateway(new HttpGateway);
  gateway->router_ = std::make_unique<Router>(options, std::move(channel));
  const std::vector<std::string> civet_options = {
      "listening_ports",
      options.address,
      "num_threads",
      std::to_string(std::max(1, options.threads)),
      "request_timeout_ms",
      std::to_string(absl::ToInt64Milliseconds(options.io_timeout)),
      "enable_keep_alive",
      "yes",
      "keep_alive_timeout_ms",
      "5000"};
  try {
    gateway->civet_ = std::make_unique<CivetServer>(civet_options);
  } catch (const CivetException& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve HTTP on ", options.address, ": ", e.what()));
  }
  gateway->civet_->addHandler("/", gateway->router_.get());
  const std::vector<int> ports = gateway->civet_->getListeningPorts();
  gateway->port_ = ports.empty() ? 0 : ports.front();
  return gateway;
}

HttpGateway::~HttpGateway() {
  if (civet_ != nullptr) civet_->close();
}

}  // namespace heed::server
