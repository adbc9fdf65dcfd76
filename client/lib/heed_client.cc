#include "client/lib/heed_client.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace heed::client {
namespace {

std::string RetryServiceConfig(int max_attempts) {
  // gRPC caps maxAttempts at 5; 1 disables retries (no retryPolicy at all).
  if (max_attempts <= 1) return "{}";
  return absl::StrFormat(R"({"methodConfig": [{
      "name": [{"service": "heed.v1.Inference"}, {"service": "grpc.health.v1.Health"}],
      "retryPolicy": {
        "maxAttempts": %d,
        "initialBackoff": "0.1s",
        "maxBackoff": "2s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE", "RESOURCE_EXHAUSTED"]
      }}]})",
                         max_attempts > 5 ? 5 : max_attempts);
}

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  google::rpc::Status rich;
  if (!status.error_details().empty() && rich.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& detail : rich.details()) {
      out.SetPayload(detail.type_url(), absl::Cord(detail.value()));
    }
  }
  return out;
}

namespace {

template <typename Detail>
bool ParseDetail(const absl::Status& status, Detail* detail) {
  const absl::optional<absl::Cord> bytes = status.GetPayload(
      absl::StrCat("type.googleapis.com/", Detail::descriptor()->full_name()));
  return bytes.has_value() && detail->ParseFromString(std::string(*bytes));
}

}  // namespace

ErrorDetails DetailsOf(const absl::Status& status) {
  ErrorDetails details;
  if (google::rpc::ErrorInfo info; ParseDetail(status, &info)) {
    details.reason = info.reason();
    details.metadata.insert(info.metadata().begin(), info.metadata().end());
  }
  if (google::rpc::BadRequest bad; ParseDetail(status, &bad)) {
    for (const auto& violation : bad.field_violations()) {
      details.field_violations.emplace_back(violation.field(), violation.description());
    }
  }
  if (google::rpc::RetryInfo retry; ParseDetail(status, &retry)) {
    details.retry_delay = absl::Seconds(retry.retry_delay().seconds()) +
                          absl::Nanoseconds(retry.retry_delay().nanos());
  }
  return details;
}

std::string DescribeError(const absl::Status& status) {
  std::string out =
      absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
  const ErrorDetails details = DetailsOf(status);
  if (!details.reason.empty()) absl::StrAppend(&out, "\n  reason: ", details.reason);
  for (const auto& [key, value] : details.metadata) {
    absl::StrAppend(&out, "\n  ", key, ": ", value);
  }
  for (const auto& [field, description] : details.field_violations) {
    absl::StrAppend(&out, "\n  field: ", field);
  }
  if (details.retry_delay) {
    absl::StrAppend(&out,
                    "\n  retry after: ", absl::FormatDuration(*details.retry_delay));
  }
  return out;
}

namespace {
absl::StatusOr<std::string> ReadPem(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}
}  // namespace

absl::StatusOr<std::unique_ptr<HeedClient>> HeedClient::Create(ClientOptions options) {
  const bool tls =
      options.tls || !options.tls_ca_file.empty() || !options.tls_cert_file.empty();
  if (!tls) return std::make_unique<HeedClient>(std::move(options));
  grpc::SslCredentialsOptions ssl;
  for (auto [path, field] : {std::pair{&options.tls_ca_file, &ssl.pem_root_certs},
                             std::pair{&options.tls_cert_file, &ssl.pem_cert_chain},
                             std::pair{&options.tls_key_file, &ssl.pem_private_key}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> pem = ReadPem(*path);
    if (!pem.ok()) return pem.status();
    *field = *pem;
  }
  auto credentials = grpc::SslCredentials(ssl);
  return std::unique_ptr<HeedClient>(new HeedClient(std::move(options), credentials));
}

HeedClient::HeedClient(ClientOptions options)
    : HeedClient(options, options.tls ? grpc::SslCredentials({})
                                      : grpc::InsecureChannelCredentials()) {}

HeedClient::HeedClient(ClientOptions options,
                       std::shared_ptr<grpc::ChannelCredentials> credentials)
    : options_(std::move(options)) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(RetryServiceConfig(options_.max_attempts));
  channel_ = grpc::CreateCustomChannel(options_.address, credentials, args);
  inference_ = heed::v1::Inference::NewStub(channel_);
  health_ = grpc::health::v1::Health::NewStub(channel_);
}

void HeedClient::PrepareContext(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoNanoseconds(options_.deadline));
  if (!options_.token.empty())
    context->AddMetadata("authorization", "Bearer " + options_.token);
}

absl::StatusOr<std::string> HeedClient::CheckHealth(const std::string& service) {
  grpc::ClientContext context;
  PrepareContext(&context);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health_->Check(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

namespace {

// One unary call with the client's deadline and token; `call(context,
// response)` makes it.
template <typename Response, typename Call>
absl::StatusOr<Response> Unary(const HeedClient& client, Call call) {
  grpc::ClientContext context;
  client.PrepareContext(&context);
  Response response;
  grpc::Status status = call(&context, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

}  // namespace

absl::StatusOr<std::vector<heed::v1::Model>> HeedClient::ListModels(heed::v1::Task task) {
  heed::v1::ListModelsRequest request;
  request.set_task(task);
  auto response =
      Unary<heed::v1::ListModelsResponse>(*this, [&](auto* context, auto* response) {
        return inference_->ListModels(context, request, response);
      });
  if (!response.ok()) return response.status();
  return std::vector<heed::v1::Model>(response->models().begin(),
                                      response->models().end());
}

absl::StatusOr<heed::v1::Model> HeedClient::GetModel(const std::string& name) {
  heed::v1::GetModelRequest request;
  request.set_name(name);
  return Unary<heed::v1::Model>(*this, [&](auto* context, auto* response) {
    return inference_->GetModel(context, request, response);
  });
}

absl::StatusOr<heed::v1::TokenizeResponse> HeedClient::Tokenize(
    const heed::v1::TokenizeRequest& request) {
  return Unary<heed::v1::TokenizeResponse>(*this, [&](auto* context, auto* response) {
    return inference_->Tokenize(context, request, response);
  });
}

absl::StatusOr<heed::v1::ServerInfo> HeedClient::GetServerInfo() {
  return Unary<heed::v1::ServerInfo>(*this, [&](auto* context, auto* response) {
    return inference_->GetServerInfo(context, heed::v1::GetServerInfoRequest(), response);
  });
}

namespace {

template <typename Response, typename Message>
absl::StatusOr<Response> ReadStream(
    grpc::ClientReader<Message>* reader,
    const std::function<void(const heed::v1::TextDelta&)>& on_delta) {
  Message message;
  Response done;
  while (reader->Read(&message)) {
    if (message.has_delta()) {
      if (on_delta) on_delta(message.delta());
    } else if (message.has_done()) {
      done = message.done();
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  return done;
}

}  // namespace

absl::StatusOr<heed::v1::TranslateResponse> HeedClient::Translate(
    const heed::v1::TranslateRequest& request) {
  return Unary<heed::v1::TranslateResponse>(*this, [&](auto* context, auto* response) {
    return inference_->Translate(context, request, response);
  });
}

absl::StatusOr<heed::v1::SummarizeResponse> HeedClient::Summarize(
    const heed::v1::SummarizeRequest& request) {
  return Unary<heed::v1::SummarizeResponse>(*this, [&](auto* context, auto* response) {
    return inference_->Summarize(context, request, response);
  });
}

absl::StatusOr<heed::v1::ClassifySentimentResponse> HeedClient::ClassifySentiment(
    const heed::v1::ClassifySentimentRequest& request) {
  return Unary<heed::v1::ClassifySentimentResponse>(
      *this, [&](auto* context, auto* response) {
        return inference_->ClassifySentiment(context, request, response);
      });
}

absl::StatusOr<heed::v1::TranslateResponse> HeedClient::TranslateStream(
    const heed::v1::TranslateRequest& request,
    const std::function<void(const heed::v1::TextDelta&)>& on_delta) {
  grpc::ClientContext context;
  PrepareContext(&context);
  auto reader = inference_->TranslateStream(&context, request);
  return ReadStream<heed::v1::TranslateResponse>(reader.get(), on_delta);
}

absl::StatusOr<heed::v1::SummarizeResponse> HeedClient::SummarizeStream(
    const heed::v1::SummarizeRequest& request,
    const std::function<void(const heed::v1::TextDelta&)>& on_delta) {
  grpc::ClientContext context;
  PrepareContext(&context);
  auto reader = inference_->SummarizeStream(&context, request);
  return ReadStream<heed::v1::SummarizeResponse>(reader.get(), on_delta);
}

}  // namespace heed::client
