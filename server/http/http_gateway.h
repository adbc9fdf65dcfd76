// heed's HTTP/JSON front end. It is a client of the server's own gRPC
// service over an in-process channel, so HTTP calls get the same
// authentication (the Authorization header), validation, limits, scheduler,
// metrics and error details as gRPC calls:
//   GET  /healthz                 200 while the process takes calls
//   GET  /readyz[?model=NAME]     200 once every model (or NAME) is ready, else 503
//   POST /v1/{Method}             the proto's JSON mapping of heed.v1.Inference
//                                 (Translate, Summarize, ClassifySentiment,
//                                 ListModels, GetModel, GetServerInfo)
//   POST /v1/TranslateStream, /v1/SummarizeStream
//                                 Server-Sent Events, one "data:" line per message
//   POST /models/{name}           the Hugging Face Inference task formats
//   POST /translation, /summarization, /text-classification
//                                 the same with the task's default model
// Errors are JSON (http_errors.h) with the matching HTTP status.
#ifndef HEED_SERVER_HTTP_HTTP_GATEWAY_H_
#define HEED_SERVER_HTTP_HTTP_GATEWAY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"

class CivetServer;

namespace heed::server {

struct HttpGatewayOptions {
  // host:port; port 0 picks a free port.
  std::string address;
  // Larger bodies get 413 without being read.
  int64_t max_body_bytes = 4 << 20;
  // Deadline of a call that does not send X-Heed-Deadline-Ms.
  absl::Duration default_deadline = absl::Seconds(60);
  // Requests served at once; more connections wait in civetweb's queue.
  int threads = 32;
  // A socket read or write that makes no progress for this long ends the
  // connection (slow or silent clients cannot hold a thread longer).
  absl::Duration io_timeout = absl::Seconds(30);
  // Counts each answered request by route and HTTP status; may be null.
  prometheus::Family<prometheus::Counter>* requests = nullptr;
};

class HttpGateway {
 public:
  // Listens at once; UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(
      const HttpGatewayOptions& options, std::shared_ptr<grpc::Channel> channel);
  ~HttpGateway();  // stops listening and waits for the requests in progress

  int port() const { return port_; }

 private:
  class Router;
  HttpGateway() = default;

  std::unique_ptr<Router> router_;
  std::unique_ptr<CivetServer> civet_;
  int port_ = 0;
};

}  // namespace heed::server

#endif  // HEED_SERVER_HTTP_HTTP_GATEWAY_H_
