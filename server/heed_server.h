// HeedServer owns a running heed-server: the gRPC server with the inference,
// health and reflection services, and the Prometheus exposer. main.cc only
// parses flags, handles signals and calls Start/Shutdown/Wait.
#ifndef HEED_SERVER_HEED_SERVER_H_
#define HEED_SERVER_HEED_SERVER_H_

#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/cpu/cpu_quota.h"
#include "grpcpp/server.h"
#include "server/config/server_options.h"
#include "server/engine/model_host.h"
#include "server/http/http_gateway.h"
#include "server/logging/request_log.h"
#include "server/metrics/process_collector.h"
#include "server/metrics/server_metrics.h"
#include "server/service/inference_service.h"

namespace prometheus {
class Exposer;
}

namespace heed::server {

class HeedServer {
 public:
  // Binds both ports and starts serving. Errors name the address that failed.
  static absl::StatusOr<std::unique_ptr<HeedServer>> Start(const ServerOptions& options);

  ~HeedServer();
  HeedServer(const HeedServer&) = delete;
  HeedServer& operator=(const HeedServer&) = delete;

  int grpc_port() const { return grpc_port_; }
  // 0 when metrics are disabled.
  int metrics_port() const { return metrics_port_; }
  // 0 when HTTP is disabled.
  int http_port() const { return http_port_; }

  // Stops accepting calls, lets in-flight ones finish within the grace period,
  // cancels the rest. Safe to call from any thread, once or more.
  void Shutdown();

  // Blocks until the gRPC server has shut down.
  void Wait();

  // Blocks until the models have loaded (tests and warm-up scripts); returns
  // load_status().
  absl::Status WaitUntilLoaded();

  // OK while loading and after a successful load. After a failed load (a
  // model failed without --skip_bad_models, or none loaded without
  // --allow_no_models) the error, and the server shuts itself down.
  absl::Status load_status();

  // Compute threads of the process and why that many.
  const cpu::ThreadChoice& threads() const { return threads_; }

 private:
  explicit HeedServer(const ServerOptions& options);

  ServerOptions options_;
  cpu::ThreadChoice threads_;
  RequestLog request_log_;
  ServerMetrics metrics_;
  std::shared_ptr<ProcessCollector> process_collector_;
  ModelHost host_;
  InferenceService inference_service_;
  std::thread loader_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::unique_ptr<grpc::Server> grpc_server_;
  // After grpc_server_: its calls go through the server's in-process channel.
  std::unique_ptr<HttpGateway> http_gateway_;
  int http_port_ = 0;
  void LoadModels();
  absl::Status ApplyDefaultModels();
  std::vector<ModelSpec> specs_;
  int grpc_port_ = 0;
  // Shutdown is called by the signal waiter, by the loader after a failed
  // load and by the destructor; one runs at a time.
  absl::Mutex shutdown_mu_;
  absl::Mutex load_mu_;
  bool loaded_ ABSL_GUARDED_BY(load_mu_) = false;
  absl::Status load_status_ ABSL_GUARDED_BY(load_mu_);
  int metrics_port_ = 0;
};

}  // namespace heed::server

#endif  // HEED_SERVER_HEED_SERVER_H_
