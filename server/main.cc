// heed-server: serves heed.v1.Inference, grpc.health.v1 and reflection over
// gRPC and Prometheus metrics over HTTP. SIGINT/SIGTERM shut it down gracefully.
// Exit codes: 0 after a signal, 1 when serving could not start or a model
// failed to load, 2 for bad flags.
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "core/cpu/cpu_features.h"
#include "heed_version.h"
#include "server/config/server_flags.h"
#include "server/heed_server.h"
#include "server/logging/logging.h"
#include "server/process/fd_limit.h"
#include "server/version_info.h"
#include "spdlog/spdlog.h"

namespace {

// Abseil keeps the last value of a repeated flag; --default_model is
// documented as repeatable, so its occurrences are joined into one
// comma-separated value before parsing.
std::vector<std::string> JoinRepeatedDefaultModel(int argc, char** argv) {
  std::vector<std::string> args;
  std::string joined;
  int first = -1;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    for (std::string_view prefix : {"--default_model=", "-default_model="}) {
      if (arg.substr(0, prefix.size()) == prefix) {
        if (!joined.empty()) joined += ",";
        joined += arg.substr(prefix.size());
        if (first < 0) first = static_cast<int>(args.size());
        arg = {};
        break;
      }
    }
    if (arg.data() != nullptr) args.emplace_back(arg);
    if (arg == "--") {
      for (++i; i < argc; ++i) args.emplace_back(argv[i]);
    }
  }
  if (first >= 0) args.insert(args.begin() + first, "--default_model=" + joined);
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves transformer models over gRPC, with Prometheus metrics over HTTP.\n"
      "Usage: heed-server [--models_dir=DIR | --config=FILE] [--flags]");
  heed::server::InstallFlagsUsage();
  std::vector<std::string> args = JoinRepeatedDefaultModel(argc, argv);
  std::vector<char*> arg_pointers;
  for (std::string& arg : args) arg_pointers.push_back(arg.data());
  absl::ParseCommandLine(static_cast<int>(arg_pointers.size()), arg_pointers.data());

  auto log_level = heed::server::ParseLogLevel(heed::server::LogLevelFlag());
  heed::server::InitLogging(log_level.ok() ? *log_level : spdlog::level::info);
  if (!log_level.ok()) {
    spdlog::error("--log_level: {}", std::string(log_level.status().message()));
    return 2;
  }

  // Block the shutdown signals before any thread starts, so that every thread
  // inherits the mask and only the waiter below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<heed::server::ServerOptions> options =
      heed::server::ServerOptionsFromFlags();
  if (!options.ok()) {
    spdlog::error("{}", std::string(options.status().message()));
    return 2;
  }
  if (const std::string isa_flag = heed::server::IsaFlag(); !isa_flag.empty()) {
    setenv("HEED_ISA", isa_flag.c_str(), 1);
  }
  absl::StatusOr<heed::cpu::Isa> isa = heed::cpu::IsaFromEnvironment();
  if (!isa.ok()) {
    spdlog::error("{}", std::string(isa.status().message()));
    return 2;
  }
  spdlog::info("heed-server {} (git {}), isa {} (this CPU's best: {})", heed::kVersion,
               heed::kGitRevision, heed::cpu::IsaName(heed::cpu::IsaCeiling()),
               heed::cpu::IsaName(heed::cpu::BestSupportedIsa()));

  // Before any socket exists: running out of descriptors would stop gRPC's
  // listener for good (see server/process/fd_limit.h).
  if (absl::StatusOr<heed::server::FdLimit> fds = heed::server::RaiseFdLimit();
      !fds.ok()) {
    spdlog::warn("file descriptors: {}", std::string(fds.status().message()));
  } else if (fds->after < 4096) {
    spdlog::warn(
        "file descriptors: the limit is {}; each connection takes one, and gRPC stops "
        "accepting for good when they run out: raise it (ulimit -n, or the container's "
        "nofile limit)",
        fds->after);
  } else {
    spdlog::info("file descriptors: limit {} (was {})", fds->after, fds->before);
  }
  auto server = heed::server::HeedServer::Start(*options);
  if (!server.ok()) {
    spdlog::error("cannot start: {}", std::string(server.status().message()));
    return 1;
  }
  spdlog::info("grpc listening on port {}", (*server)->grpc_port());
  if ((*server)->metrics_port() != 0) {
    spdlog::info("metrics listening on port {}", (*server)->metrics_port());
  }
  if ((*server)->http_port() != 0) {
    spdlog::info("http listening on port {}", (*server)->http_port());
  }

  std::thread signal_waiter([&signals, srv = server->get()] {
    int received = 0;
    sigwait(&signals, &received);
    if (!srv->load_status().ok()) return;  // woken below after a failed load
    spdlog::info("received signal {}, shutting down", received);
    srv->Shutdown();
  });
  // Wait() returns after Shutdown(): from the waiter on a signal, or from the
  // loader when a model failed to load.
  (*server)->Wait();
  const absl::Status load_status = (*server)->load_status();
  if (!load_status.ok()) pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  server->reset();
  if (!load_status.ok()) {
    spdlog::error("stopped: {}", std::string(load_status.message()));
    return 1;
  }
  spdlog::info("heed-server stopped");
  return 0;
}
