#include "server/heed_server.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <exception>
#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/cpu/cpu_features.h"
#include "core/io/json_file.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "heed_version.h"
#include "prometheus/exposer.h"
#include "server/config/model_config_file.h"
#include "server/server_info.h"
#include "spdlog/spdlog.h"

namespace heed::server {
namespace {

// Two models under one name: the second would silently replace the first.
absl::Status CheckUniqueNames(const std::vector<ModelSpec>& specs) {
  std::map<std::string, std::string> directory_of;
  for (const ModelSpec& spec : specs) {
    auto [it, inserted] = directory_of.emplace(spec.ServedName(), spec.directory);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("two models are named ", spec.ServedName(), ": ", it->second,
                       " and ", spec.directory, "; give one a different \"name\""));
    }
  }
  return absl::OkStatus();
}

// Before the port opens: every --default_model names a model about to load.
absl::Status CheckDefaultModelNames(
    const std::map<pipelines::Task, std::string>& defaults,
    const std::vector<ModelSpec>& specs) {
  std::vector<std::string> names;
  for (const ModelSpec& spec : specs) names.push_back(spec.ServedName());
  for (const auto& [task, name] : defaults) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--default_model ", TaskLabel(task), "=", name, ": no model named ", name,
          "; the models are: ", absl::StrJoin(names, ", ")));
    }
  }
  return absl::OkStatus();
}

// Reads a PEM file that must hold at least one block whose label contains
// `kind` (CERTIFICATE, PRIVATE KEY), so that a wrong or garbled file is named
// at start-up instead of failing as "cannot listen".
absl::StatusOr<std::string> ReadPem(const char* flag, const std::string& path,
                                    const std::string& kind) {
  absl::StatusOr<std::string> text = io::ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", text.status().message()));
  }
  for (size_t begin = text->find("-----BEGIN "); begin != std::string::npos;
       begin = text->find("-----BEGIN ", begin + 1)) {
    const size_t label_end = text->find("-----", begin + 11);
    if (label_end == std::string::npos) break;
    const std::string label = text->substr(begin + 11, label_end - begin - 11);
    if (label.find(kind) != std::string::npos &&
        text->find("-----END " + label + "-----", label_end) != std::string::npos) {
      return text;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, " holds no PEM ", kind,
                                                 " (-----BEGIN ... ", kind, "-----)"));
}

}  // namespace

HeedServer::HeedServer(const ServerOptions& options)
    : options_(options),
      threads_(cpu::ChooseComputeThreads(options.threads, options.cgroup_root)),
      request_log_(options.request_log),
      process_collector_(std::make_shared<ProcessCollector>()),
      host_(&metrics_, options.models),
      inference_service_(
          &host_, &metrics_, options.auth_tokens, &request_log_,
          StreamLimits{options.max_stream_buffer_bytes, options.stream_write_timeout}) {}

HeedServer::~HeedServer() {
  Shutdown();
  Wait();
  if (loader_.joinable()) loader_.join();
  host_.Shutdown(absl::ZeroDuration());
}

// Health: "liveness" is SERVING from the start (the process takes calls, so
// a slow model load is no reason to restart it); the overall service and
// "heed.v1.Inference" turn SERVING once every model has loaded and warmed up;
// "heed.v1.Inference/<task>" is SERVING when a model for that task runs.
void HeedServer::LoadModels() {
  const ModelHost::LoadReport report =
      host_.LoadAll(specs_, threads_.threads, !options_.skip_bad_models);
  absl::Status status;
  if (!report.failures.empty() && !options_.skip_bad_models) {
    status = absl::FailedPreconditionError(
        absl::StrCat("model ", report.failures.front(),
                     " (--skip_bad_models serves the models that load)"));
  } else if (report.loaded == 0 && !specs_.empty() && !options_.allow_no_models) {
    status = absl::FailedPreconditionError(
        absl::StrCat("none of the ", specs_.size(),
                     " model(s) loaded (--allow_no_models starts without models)"));
  }
  if (status.ok()) status = ApplyDefaultModels();
  if (!status.ok()) {
    {
      absl::MutexLock lock(&load_mu_);
      load_status_ = status;
      loaded_ = true;
    }
    // Fail fast: main() sees load_status() after Wait() and exits 1.
    Shutdown();
    return;
  }
  spdlog::info("loaded {} of {} model(s){}", report.loaded, specs_.size(),
               report.failures.empty()
                   ? ""
                   : absl::StrCat(", skipped ", report.failures.size(),
                                  " that failed (--skip_bad_models)"));
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  for (pipelines::Task task : kAllTasks) {
    const std::vector<ModelInfo> models = host_.List(task);
    health->SetServingStatus(absl::StrCat("heed.v1.Inference/", TaskLabel(task)),
                             !models.empty());
    for (const ModelInfo& model : models) {
      if (model.is_default) {
        spdlog::info("default model of {}: {}", TaskLabel(task), model.name);
      }
    }
  }
  health->SetServingStatus("", true);
  health->SetServingStatus("heed.v1.Inference", true);
  spdlog::info("serving");
  absl::MutexLock lock(&load_mu_);
  loaded_ = true;
}

// --default_model names a model for a task; it must have loaded and serve that
// task (names were checked against the specs before the port opened).
absl::Status HeedServer::ApplyDefaultModels() {
  for (const auto& [task, name] : options_.default_models) {
    absl::Status s = host_.SetDefault(task, name);
    if (absl::IsNotFound(s)) {  // the name was checked: the model did not load
      if (options_.skip_bad_models) {
        spdlog::warn("--default_model {}={}: the model did not load", TaskLabel(task),
                     name);
        continue;
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "--default_model ", TaskLabel(task), "=", name, ": the model did not load"));
    }
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("--default_model ", TaskLabel(task), "=",
                                                 name, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status HeedServer::WaitUntilLoaded() {
  absl::MutexLock lock(&load_mu_);
  load_mu_.Await(absl::Condition(&loaded_));
  return load_status_;
}

absl::Status HeedServer::load_status() {
  absl::MutexLock lock(&load_mu_);
  return load_status_;
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
  if (server->specs_.empty() && !options.allow_no_models) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.config_file.empty()
            ? absl::StrCat("--models_dir ", options.models_dir,
                           " holds no model directory (a subdirectory with config.json)")
            : absl::StrCat("--config ", options.config_file, " lists no model"),
        "; pass --allow_no_models to serve health and an empty catalog"));
  }
  if (absl::Status s = CheckUniqueNames(server->specs_); !s.ok()) return s;
  if (absl::Status s = CheckDefaultModelNames(options.default_models, server->specs_);
      !s.ok()) {
    return s;
  }
  spdlog::info("compute threads: {} ({})", server->threads_.threads,
               server->threads_.reason);
  server->metrics_.SetComputeThreads(server->threads_.threads);
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
    absl::StatusOr<std::string> cert =
        ReadPem("--tls_cert", options.tls_cert_file, "CERTIFICATE");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPem("--tls_key", options.tls_key_file, "PRIVATE KEY");
    if (!key.ok()) return key.status();
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!options.tls_client_ca_file.empty()) {
      absl::StatusOr<std::string> ca =
          ReadPem("--tls_client_ca", options.tls_client_ca_file, "CERTIFICATE");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(options.grpc_address, credentials, &server->grpc_port_);
  // gRPC sets SO_REUSEPORT by default: a second server on a busy port would
  // start silently and take half of the calls. A busy port is an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Bounded connections: silent ones are closed, idle ones told to go away.
  auto millis = [](absl::Duration d) {
    return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX));
  };
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             millis(options.handshake_timeout));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             millis(options.max_connection_idle));
  if (options.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               millis(options.max_connection_age));
  }
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  if (options.max_grpc_memory > 0) {
    grpc::ResourceQuota quota("heed-server");
    quota.Resize(static_cast<size_t>(options.max_grpc_memory));
    builder.SetResourceQuota(quota);
  }
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  server->inference_service_.SetServerInfo(
      BuildServerInfo(options, server->threads_.threads));
  builder.RegisterService(&server->inference_service_);
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || server->grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for gRPC on ", options.grpc_address,
        options.tls_cert_file.empty()
            ? ""
            : absl::StrCat(" (or TLS refused --tls_cert ", options.tls_cert_file,
                           " and --tls_key ", options.tls_key_file,
                           ": are they a certificate chain and its private key?)")));
  }
  grpc::HealthCheckServiceInterface* health =
      server->grpc_server_->GetHealthCheckService();
  health->SetServingStatus("", false);
  health->SetServingStatus("heed.v1.Inference", false);
  health->SetServingStatus("liveness", true);
  if (!options.http_address.empty()) {
    HttpGatewayOptions http;
    http.address = options.http_address;
    http.max_body_bytes = options.max_message_bytes;
    http.requests = &server->metrics_.http_requests_total();
    // The gateway's calls meet the same message limit as any gRPC client's.
    grpc::ChannelArguments channel_args;
    channel_args.SetMaxReceiveMessageSize(options.max_message_bytes);
    channel_args.SetMaxSendMessageSize(options.max_message_bytes);
    auto gateway =
        HttpGateway::Start(http, server->grpc_server_->InProcessChannel(channel_args));
    if (!gateway.ok()) return gateway.status();
    server->http_gateway_ = *std::move(gateway);
    server->http_port_ = server->http_gateway_->port();
  }
  HeedServer* raw = server.get();
  server->loader_ = std::thread([raw] { raw->LoadModels(); });
  return server;
}

void HeedServer::Shutdown() {
  if (grpc_server_ == nullptr) return;
  absl::MutexLock lock(&shutdown_mu_);
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
  // HTTP requests that came meanwhile got UNAVAILABLE from the in-process
  // channel; the gateway's threads are done once its calls are.
  http_gateway_.reset();
  host_.Shutdown(absl::ZeroDuration());
}

void HeedServer::Wait() {
  if (grpc_server_ != nullptr) grpc_server_->Wait();
}

}  // namespace heed::server
