// A small C++ client for heed-server: one channel, typed calls, deadlines, and
// retries on UNAVAILABLE and RESOURCE_EXHAUSTED after the delay the server
// asks for (through gRPC's retry policy, so a call is retried only when the
// server has certainly not processed it).
#ifndef HEED_CLIENT_LIB_HEED_CLIENT_H_
#define HEED_CLIENT_LIB_HEED_CLIENT_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "heed/v1/inference.grpc.pb.h"

namespace heed::client {

struct ClientOptions {
  // host:port of heed-server.
  std::string address = "127.0.0.1:50051";
  // Deadline of each call.
  absl::Duration deadline = absl::Seconds(30);
  // Attempts per call (1 = no retries, at most 5) on UNAVAILABLE and
  // RESOURCE_EXHAUSTED. A retry waits the server's RetryInfo delay (sent also
  // as grpc-retry-pushback-ms), else an exponential backoff.
  int max_attempts = 4;
  // TLS: on when `tls` is set or any file is given. The CA bundle verifies the
  // server (empty: the system's roots); cert and key identify the client for
  // mutual TLS.
  bool tls = false;
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  // Sent as "authorization: Bearer <token>" when not empty.
  std::string token;
};

class HeedClient {
 public:
  // Fails only if a TLS file cannot be read.
  static absl::StatusOr<std::unique_ptr<HeedClient>> Create(ClientOptions options);
  // Plaintext or TLS without files (cannot fail).
  explicit HeedClient(ClientOptions options);

  // grpc.health.v1 Check of `service` ("" is the whole server). Returns the
  // status name as the protocol spells it: SERVING, NOT_SERVING, ...
  absl::StatusOr<std::string> CheckHealth(const std::string& service = "");

  absl::StatusOr<std::vector<heed::v1::Model>> ListModels(
      heed::v1::Task task = heed::v1::TASK_UNSPECIFIED);

  absl::StatusOr<heed::v1::Model> GetModel(const std::string& name);

  absl::StatusOr<heed::v1::ServerInfo> GetServerInfo();

  absl::StatusOr<heed::v1::TokenizeResponse> Tokenize(
      const heed::v1::TokenizeRequest& request);

  absl::StatusOr<heed::v1::TranslateResponse> Translate(
      const heed::v1::TranslateRequest& request);
  absl::StatusOr<heed::v1::SummarizeResponse> Summarize(
      const heed::v1::SummarizeRequest& request);
  absl::StatusOr<heed::v1::ClassifySentimentResponse> ClassifySentiment(
      const heed::v1::ClassifySentimentRequest& request);
  // Streams: `on_delta` receives text as it is generated; the final message
  // is returned. Streams are not retried once a message has arrived.
  absl::StatusOr<heed::v1::TranslateResponse> TranslateStream(
      const heed::v1::TranslateRequest& request,
      const std::function<void(const heed::v1::TextDelta&)>& on_delta);
  absl::StatusOr<heed::v1::SummarizeResponse> SummarizeStream(
      const heed::v1::SummarizeRequest& request,
      const std::function<void(const heed::v1::TextDelta&)>& on_delta);

  const ClientOptions& options() const { return options_; }
  heed::v1::Inference::Stub& inference() { return *inference_; }
  // Sets the deadline and the token of a call.
  void PrepareContext(grpc::ClientContext* context) const;

 private:
  HeedClient(ClientOptions options,
             std::shared_ptr<grpc::ChannelCredentials> credentials);

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<heed::v1::Inference::Stub> inference_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

// Converts a gRPC status into absl's, keeping code and message; each
// google.rpc detail the server sent becomes a payload keyed by its type URL
// ("type.googleapis.com/google.rpc.ErrorInfo", ...), as absl's convention is.
absl::Status FromGrpcStatus(const grpc::Status& status);

// What a program reads from a failed call's details.
struct ErrorDetails {
  std::string reason;  // ErrorInfo.reason, e.g. "QUEUE_FULL"; empty if none
  std::map<std::string, std::string> metadata;  // ErrorInfo.metadata
  std::vector<std::pair<std::string, std::string>> field_violations;  // BadRequest
  std::optional<absl::Duration> retry_delay;                          // RetryInfo
};
ErrorDetails DetailsOf(const absl::Status& status);

// "CODE: message" followed by the details, one "  key: value" line each.
std::string DescribeError(const absl::Status& status);

}  // namespace heed::client

#endif  // HEED_CLIENT_LIB_HEED_CLIENT_H_
