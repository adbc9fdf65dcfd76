#include "server/heed_server.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/cpu/cpu_features.h"
#include "core/io/json_file.h"
#include "core/version.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "prometheus/exposer.h"
#include "server/config/model_config_file.h"

namespace heed::server {

HeedServer::HeedServer(const ServerOptions& options)
    : options_(options),
      process_collector_(std::make_shared<ProcessCollector>()),
      host_(&catalog_, &metrics_, options.models),
      inference_service_(&catalog_, &host_, &metrics_, options.auth_tokens) {}

HeedServer::~HeedServer() {
  Shutdown();
  Wait();
  if (loader_.joinable()) loader_.join();
  host_.Shutdown(absl::ZeroDuration());
}

// Health: the overall service and "heed.v1.Inference" turn SERVING once every
// model has loaded and warmed up; "heed.v1.Inference/<task>" is SERVING when
// a model for that task runs.
void HeedServer::LoadModels() {
  const int loaded = host_.LoadAll(specs_);
  std::printf("loaded %d of %zu model(s)\n", loaded, specs_.size());
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  for (heed::v1::Task task : {heed::v1::TASK_TRANSLATION, heed::v1::TASK_SUMMARIZATION,
                              heed::v1::TASK_SENTIMENT}) {
    health->SetServingStatus(absl::StrCat("heed.v1.Inference/", TaskLabel(task)),
                             !catalog_.List(task).empty());
  }
  health->SetServingStatus("", true);
  health->SetServingStatus("heed.v1.Inference", true);
  std::printf("serving\n");
  std::fflush(stdout);
  absl::MutexLock lock(&load_mu_);
  loaded_ = true;
}

void HeedServer::WaitUntilLoaded() {
  absl::MutexLock lock(&load_mu_);
  load_mu_.Await(absl::Condition(&loaded_));
}

absl::StatusOr<std::unique_ptr<HeedServer>> HeedServer::Start(
    const ServerOptions& options) {
  std::unique_ptr<HeedServer> server(new HeedServer(options));
  // Which models to serve is decided before the port opens, so that a wrong
  // --config or --models_dir fails the start instead of serving nothing.
  absl::StatusOr<std::vector<ModelSpec>> specs =
      options.config_file.empty()
          ? server->host_.SpecsFromDirectory(options.models_dir)
          : ReadModelConfigFile(options.config_file, options.models);
  if (!specs.ok()) {
    if (options.config_file.empty() && absl::IsNotFound(specs.status())) {
      return absl::NotFoundError(
          absl::StrCat("--models_dir ", options.models_dir, " is not a directory"));
    }
    return specs.status();
  }
  server->specs_ = std::move(*specs);
  server->metrics_.SetBuildInfo(kVersion, std::string(cpu::IsaName(cpu::ActiveIsa())));

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
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::InsecureServerCredentials();
  if (!options.tls_cert_file.empty()) {
    grpc::SslServerCredentialsOptions ssl(
        options.tls_client_ca_file.empty()
            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    absl::StatusOr<std::string> cert = io::ReadFile(options.tls_cert_file);
    absl::StatusOr<std::string> key = io::ReadFile(options.tls_key_file);
    if (!cert.ok()) return cert.status();
    if (!key.ok()) return key.status();
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!options.tls_client_ca_file.empty()) {
      absl::StatusOr<std::string> ca = io::ReadFile(options.tls_client_ca_file);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(options.grpc_address, credentials, &server->grpc_port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(&server->inference_service_);
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || server->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", options.grpc_address));
  }
  grpc::HealthCheckServiceInterface* health =
      server->grpc_server_->GetHealthCheckService();
  health->SetServingStatus("", false);
  health->SetServingStatus("heed.v1.Inference", false);
  HeedServer* raw = server.get();
  server->loader_ = std::thread([raw] { raw->LoadModels(); });
  return server;
}

void HeedServer::Shutdown() {
  if (grpc_server_ == nullptr) return;
  if (auto* health = grpc_server_->GetHealthCheckService()) {
    // Tell balancers to stop sending before the listener closes.
    health->Shutdown();
  }
  // The schedulers stop taking work and give up on what is unfinished a
  // little before the grace period ends, answering UNAVAILABLE (retryable,
  // e.g. on another replica); gRPC stops accepting calls now and cancels any
  // call still open when the grace period ends.
  const absl::Duration grace = options_.shutdown_grace;
  host_.BeginShutdown(grace - std::min(grace / 10, absl::Milliseconds(500)));
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoNanoseconds(grace);
  grpc_server_->Shutdown(deadline);
  host_.Shutdown(absl::ZeroDuration());
}

void HeedServer::Wait() {
  if (grpc_server_ != nullptr) grpc_server_->Wait();
}

}  // namespace heed::server
