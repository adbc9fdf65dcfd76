// heed-server: serves heed.v1.Inference, grpc.health.v1 and reflection over
// gRPC and Prometheus metrics over HTTP. SIGINT/SIGTERM shut it down gracefully.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "core/cpu/cpu_features.h"
#include "core/version.h"
#include "server/config/server_flags.h"
#include "server/heed_server.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves transformer models over gRPC.\nUsage: heed-server [--flags]");
  absl::ParseCommandLine(argc, argv);

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
    std::fprintf(stderr, "heed-server: %s\n", options.status().ToString().c_str());
    return 2;
  }
  if (const std::string isa_flag = heed::server::IsaFlag(); !isa_flag.empty()) {
    setenv("HEED_ISA", isa_flag.c_str(), 1);
  }
  absl::StatusOr<heed::cpu::Isa> isa = heed::cpu::IsaFromEnvironment();
  if (!isa.ok()) {
    std::fprintf(stderr, "heed-server: %s\n", isa.status().ToString().c_str());
    return 2;
  }

  auto server = heed::server::HeedServer::Start(*options);
  if (!server.ok()) {
    std::fprintf(stderr, "heed-server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("heed-server %s (isa %s, cpu best %s)\n", heed::kVersion,
              std::string(heed::cpu::IsaName(heed::cpu::IsaCeiling())).c_str(),
              std::string(heed::cpu::IsaName(heed::cpu::BestSupportedIsa())).c_str());
  std::printf("grpc listening on port %d\n", (*server)->grpc_port());
  if ((*server)->metrics_port() != 0) {
    std::printf("metrics listening on port %d\n", (*server)->metrics_port());
  }
  std::fflush(stdout);

  std::thread signal_waiter([&signals, srv = server->get()] {
    int received = 0;
    sigwait(&signals, &received);
    std::printf("received signal %d, shutting down\n", received);
    std::fflush(stdout);
    srv->Shutdown();
  });
  (*server)->Wait();
  // Wait() only returns after Shutdown(), which only the waiter calls.
  signal_waiter.join();
  server->reset();
  std::printf("heed-server stopped\n");
  return 0;
}
