// Everything heed-server is configured with, as one struct with defaults.
// Flags fill it in server/config/server_flags.cc; tests fill it directly.
#ifndef HEED_SERVER_CONFIG_SERVER_OPTIONS_H_
#define HEED_SERVER_CONFIG_SERVER_OPTIONS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/engine/model_host.h"
#include "server/logging/request_log.h"

namespace heed::server {

struct ServerOptions {
  // host:port for gRPC; port 0 picks a free port (see HeedServer::grpc_port()).
  std::string grpc_address = "127.0.0.1:50051";
  // host:port for the Prometheus /metrics endpoint; empty disables it.
  std::string metrics_address = "127.0.0.1:9464";
  // host:port for HTTP/JSON (server/http/http_gateway.h); empty disables it.
  std::string http_address;
  // A directory whose subdirectories are Hugging Face model directories.
  std::string models_dir = "models";
  // How long in-flight calls may run after SIGTERM before they are cancelled.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Largest request or response message, in bytes.
  int max_message_bytes = 4 << 20;
  // TLS: PEM files of the server's certificate chain and key; with a client
  // CA, clients must present a certificate it signed (mutual TLS). Empty:
  // plaintext.
  std::string tls_cert_file, tls_key_file, tls_client_ca_file;
  // Bearer tokens accepted on heed.v1.Inference calls (health and reflection
  // stay open for probes); empty: no authentication.
  std::vector<std::string> auth_tokens;
  // Compute type and batching knobs of models found in models_dir.
  ModelHostOptions models;
  // Optional JSON file listing the models to serve (replaces models_dir's scan).
  std::string config_file;
  // Start with no model at all (health and the catalog only); otherwise zero
  // models is a start-up error.
  bool allow_no_models = false;
  // Serve the models that load when some fail (each failure is logged);
  // otherwise one failure stops the server with a non-zero exit.
  bool skip_bad_models = false;
  // Each task's default model by name; overrides the config file's "default".
  std::map<pipelines::Task, std::string> default_models;
  // Compute threads for the whole process; 0: the cores of the affinity mask,
  // lowered to the cgroup CPU quota found under cgroup_root.
  int threads = 0;
  std::string cgroup_root = "/sys/fs/cgroup";
  // One line per finished call on stdout, or none.
  RequestLogFormat request_log = RequestLogFormat::kOff;
  // Connections: a connection that has not finished its handshake (TLS or
  // HTTP/2 preface) within handshake_timeout is closed; one with no call for
  // max_connection_idle gets GOAWAY; max_connection_age (zero: none) makes
  // clients reconnect, so that balancers see new replicas; a connection
  // carries at most max_concurrent_streams calls at once.
  absl::Duration handshake_timeout = absl::Seconds(10);
  // gRPC's memory quota for connections and calls, in bytes (0: gRPC's
  // default, unbounded). Near it gRPC drops new connections and shrinks
  // buffers: gRPC 1.51's only bound on the number of connections.
  int64_t max_grpc_memory = int64_t{1} << 30;
  absl::Duration max_connection_idle = absl::Minutes(5);
  absl::Duration max_connection_age = absl::ZeroDuration();
  int max_concurrent_streams = 100;
  // A stream whose client does not read stops (RESOURCE_EXHAUSTED, and its
  // computation too) once this many bytes wait unsent, or once one message
  // has waited stream_write_timeout to be taken by the client.
  int64_t max_stream_buffer_bytes = int64_t{1} << 20;
  absl::Duration stream_write_timeout = absl::Seconds(30);
};

}  // namespace heed::server

#endif  // HEED_SERVER_CONFIG_SERVER_OPTIONS_H_
