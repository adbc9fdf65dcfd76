#include "server/heed_server.h"

#include <chrono>
#include <exception>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/cpu/cpu_features.h"
#include "core/version.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "prometheus/exposer.h"

namespace heed::server {

HeedServer::HeedServer(const ServerOptions& options)
    : options_(options),
      process_collector_(std::make_shared<ProcessCollector>()),
      inference_service_(&catalog_) {}

HeedServer::~HeedServer() {
  Shutdown();
  Wait();
}

absl::StatusOr<std::unique_ptr<HeedServer>> HeedServer::Start(
    const ServerOptions& options) {
  std::unique_ptr<HeedServer> server(new HeedServer(options));
  server->metrics_.SetBuildInfo(kVersion,
                                std::string(cpu::IsaName(cpu::ActiveIsa())));

  if (!options.metrics_address.empty()) {
    // prometheus-cpp reports bind failures by throwing; keep them inside.
    try {
      server->exposer_ = std::make_unique<prometheus::Exposer>(options.metrics_address);
    } catch (const std::exception& e) {
      return absl::UnavailableError(absl::StrCat(
          "cannot serve metrics on ", options.metrics_address, ": ", e.what()));
    }
    server->exposer_->RegisterCollectable(server->metrics_.registry());
    server->exposer_->RegisterCollectable(server->process_collector_);
    const std::vector<int> ports = server->exposer_->GetListeningPorts();
    server->metrics_port_ = ports.empty() ? 0 : ports.front();
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.grpc_address, grpc::InsecureServerCredentials(),
                           &server->grpc_port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(&server->inference_service_);
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || server->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", options.grpc_address));
  }
  // No models yet: the overall health ("") is SERVING once the server is up.
  grpc::HealthCheckServiceInterface* health =
      server->grpc_server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus("heed.v1.Inference", true);
  return server;
}

void HeedServer::Shutdown() {
  if (grpc_server_ == nullptr) return;
  if (auto* health = grpc_server_->GetHealthCheckService()) {
    // Tell balancers to stop sending before the listener closes.
    health->Shutdown();
  }
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoNanoseconds(options_.shutdown_grace);
  grpc_server_->Shutdown(deadline);
}

void HeedServer::Wait() {
  if (grpc_server_ != nullptr) grpc_server_->Wait();
}

}  // namespace heed::server
