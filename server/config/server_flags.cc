#include "server/config/server_flags.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "core/io/json_file.h"

ABSL_FLAG(std::string, grpc_address, "127.0.0.1:50051",
          "host:port the gRPC server listens on; port 0 picks a free port.");
ABSL_FLAG(std::string, metrics_address, "127.0.0.1:9464",
          "host:port of the Prometheus /metrics endpoint; empty disables it; "
          "port 0 picks a free port.");
ABSL_FLAG(std::string, http_address, "",
          "host:port of the HTTP/JSON API (/v1/{Method}, Hugging Face task formats at "
          "/models/{name}, /healthz, /readyz); empty disables it; port 0 picks a free "
          "port.");
ABSL_FLAG(std::string, models_dir, "models",
          "Directory whose subdirectories are Hugging Face model directories.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "After SIGTERM/SIGINT, how long in-flight calls may finish before "
          "they are cancelled.");
ABSL_FLAG(int, max_message_bytes, 4 << 20,
          "Largest gRPC request or response message in bytes.");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of the server; enables TLS.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of the server (with --tls_cert).");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle; clients must present a certificate it signed (mutual TLS).");
ABSL_FLAG(std::string, auth_token_file, "",
          "File with one bearer token per line; heed.v1.Inference calls must send "
          "'authorization: Bearer <token>'. Health and reflection stay open.");
ABSL_FLAG(
    std::string, config, "",
    "JSON file listing the models to serve with their compute type, batching and "
    "threads (see server/config/model_config_file.h); replaces the --models_dir scan.");
ABSL_FLAG(std::string, compute_type, "float32",
          "Number format of the models' matrix products: float32, bfloat16 or int8. "
          "bfloat16 runs as float32 on CPUs without AVX512_BF16 (faster there); "
          "int8 uses 7-bit weights on CPUs without VNNI.");
ABSL_FLAG(std::string, isa, "",
          "Instruction-set ceiling for heed's kernels and oneDNN: generic, avx2, avx512, "
          "avx512_vnni or avx512_bf16; empty means the CPU's best (or HEED_ISA's). "
          "Lower levels reproduce older CPUs.");
ABSL_FLAG(int, max_batch_size, 32,
          "Requests (or sequences) computed together per model.");
ABSL_FLAG(int, max_batch_tokens, 1024,
          "Classifiers: input tokens per batch (a request over it runs alone). Short "
          "batches hold a newly arrived request for at most one short batch, and "
          "cost little throughput (a DistilBERT-base batch of 1,024 tokens runs "
          "about as fast per sequence as one of 4,096).");
ABSL_FLAG(absl::Duration, max_queue_delay, absl::Milliseconds(2),
          "How long a classifier batch may wait to fill.");
ABSL_FLAG(
    int, max_queue_size, 256,
    "Queued requests per model; beyond it requests get RESOURCE_EXHAUSTED at once.");
ABSL_FLAG(absl::Duration, max_queue_wait, absl::Seconds(1),
          "Latency bound of each model's queue: once the measured service time says "
          "the queued work takes longer than this, requests get RESOURCE_EXHAUSTED "
          "with a retry delay (0: only --max_queue_size bounds the queue).");
ABSL_FLAG(absl::Duration, handshake_timeout, absl::Seconds(10),
          "Close a connection that has not completed its TLS/HTTP2 handshake by then "
          "(silent TCP connections must not hold file descriptors).");
ABSL_FLAG(int64_t, max_grpc_memory, int64_t{1} << 30,
          "Bytes gRPC may hold for connections and calls; near the bound it drops new "
          "connections instead of taking more memory (0: unbounded).");
ABSL_FLAG(absl::Duration, max_connection_idle, absl::Minutes(5),
          "Send GOAWAY to a connection that carried no call for this long.");
ABSL_FLAG(absl::Duration, max_connection_age, absl::ZeroDuration(),
          "Send GOAWAY to connections older than this (0: never), so that clients "
          "reconnect and spread over new replicas.");
ABSL_FLAG(int, max_concurrent_streams, 100,
          "Calls one connection may have open at once.");
ABSL_FLAG(int64_t, max_stream_buffer_bytes, int64_t{1} << 20,
          "A stream whose unsent output exceeds this many bytes (its client does not "
          "read) stops with RESOURCE_EXHAUSTED, and so does its computation.");
ABSL_FLAG(absl::Duration, stream_write_timeout, absl::Seconds(30),
          "A stream whose client has not taken a message for this long stops with "
          "RESOURCE_EXHAUSTED, and so does its computation.");
ABSL_FLAG(int64_t, max_request_cost, heed::server::kDefaultMaxRequestCost,
          "Generation requests are refused (INVALID_ARGUMENT) when beams x max output "
          "tokens, plus returned hypotheses x max output tokens with return_alignment, "
          "exceeds this: no single request can hold the compute for long.");
ABSL_FLAG(std::string, long_input, "error",
          "Classifiers: what a request that does not choose (long_input, "
          "truncate_input) gets for a text over the model's limit: error, truncate, "
          "or chunks (overlapping windows whose probabilities are averaged).");
ABSL_FLAG(bool, allow_no_models, false,
          "Start even when --models_dir or --config names no model (health and the "
          "catalog only); without it, zero models is a start-up error.");
ABSL_FLAG(bool, skip_bad_models, false,
          "Serve the models that load when others fail to load (each failure is "
          "logged); without it, any failure stops the server with exit code 1.");
ABSL_FLAG(std::vector<std::string>, default_model, {},
          "TASK=NAME: the default model of a task (translation, summarization, "
          "sentiment), used by requests that name no model; repeatable or "
          "comma-separated. Without it: the config file's \"default\", else the first "
          "model of the task by name.");
ABSL_FLAG(int, threads, 0,
          "Compute threads for the whole process; 0: the cores in the affinity mask, "
          "lowered to the container's cgroup CPU quota.");
ABSL_FLAG(std::string, cgroup_root, "/sys/fs/cgroup",
          "Where the cgroup hierarchies are mounted (read for the CPU quota).");
ABSL_FLAG(std::string, log_level, "info",
          "Server log level: debug, info, warn or error.");
ABSL_FLAG(std::string, request_log, "off",
          "One line per finished call on stdout: off, text or json (model, task, code, "
          "tokens, queue and compute ms, peer, W3C trace id).");

namespace heed::server {
namespace {

// host:port with a port 0 to 65535 (gRPC would take 99999 modulo 65536).
absl::Status CheckAddress(const char* flag, const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon + 1 == address.size() ||
      !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " ", address, ": expected host:port with a port from 0 to 65535"));
  }
  return absl::OkStatus();
}

// INVALID_ARGUMENT naming the flag whose value `status` refused.
absl::Status FlagError(const char* flag, const absl::Status& status) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", status.message()));
}

}  // namespace

std::string IsaFlag() { return absl::GetFlag(FLAGS_isa); }

std::string LogLevelFlag() { return absl::GetFlag(FLAGS_log_level); }

absl::StatusOr<std::map<pipelines::Task, std::string>> ParseDefaultModels(
    const std::vector<std::string>& entries) {
  std::map<pipelines::Task, std::string> defaults;
  for (const std::string& entry : entries) {
    std::pair<std::string, std::string> task_name = absl::StrSplit(entry, '=');
    const std::optional<pipelines::Task> task = TaskFromLabel(task_name.first);
    if (!task) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--default_model ", entry,
          ": expected TASK=NAME with TASK translation, summarization or sentiment"));
    }
    if (task_name.second.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--default_model ", entry, ": the model name is empty"));
    }
    if (auto [it, inserted] = defaults.emplace(*task, task_name.second);
        !inserted && it->second != task_name.second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--default_model names two defaults for ", task_name.first, ": ",
                       it->second, " and ", task_name.second));
    }
  }
  return defaults;
}

absl::StatusOr<ServerOptions> ServerOptionsFromFlags() {
  ServerOptions options;
  options.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.http_address = absl::GetFlag(FLAGS_http_address);
  options.max_grpc_memory = absl::GetFlag(FLAGS_max_grpc_memory);
  if (options.max_grpc_memory < 0) {
    return absl::InvalidArgumentError("--max_grpc_memory must not be negative");
  }
  options.models_dir = absl::GetFlag(FLAGS_models_dir);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.config_file = absl::GetFlag(FLAGS_config);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (!options.tls_client_ca_file.empty() && options.tls_cert_file.empty()) {
    return absl::InvalidArgumentError("--tls_client_ca needs --tls_cert and --tls_key");
  }
  if (const std::string path = absl::GetFlag(FLAGS_auth_token_file); !path.empty()) {
    absl::StatusOr<std::string> text = io::ReadFile(path);
    if (!text.ok()) return FlagError("auth_token_file", text.status());
    for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
      options.auth_tokens.emplace_back(absl::StripAsciiWhitespace(line));
    }
    if (options.auth_tokens.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--auth_token_file ", path, " has no token"));
    }
  }
  absl::StatusOr<ops::ComputeType> compute_type =
      ops::ParseComputeType(absl::GetFlag(FLAGS_compute_type));
  if (!compute_type.ok()) return FlagError("compute_type", compute_type.status());
  options.models.compute_type = *compute_type;
  options.models.batching.max_batch_size = absl::GetFlag(FLAGS_max_batch_size);
  options.models.batching.max_batch_tokens = absl::GetFlag(FLAGS_max_batch_tokens);
  options.models.max_request_cost = absl::GetFlag(FLAGS_max_request_cost);
  if (options.models.max_request_cost < 1) {
    return absl::InvalidArgumentError("--max_request_cost must be at least 1");
  }
  absl::StatusOr<pipelines::LongInput> long_input =
      pipelines::ParseLongInput(absl::GetFlag(FLAGS_long_input));
  if (!long_input.ok()) return FlagError("long_input", long_input.status());
  options.models.long_input = *long_input;
  options.models.batching.max_queue_delay = absl::GetFlag(FLAGS_max_queue_delay);
  options.models.batching.max_queue_size = absl::GetFlag(FLAGS_max_queue_size);
  options.models.batching.max_queue_wait = absl::GetFlag(FLAGS_max_queue_wait);
  if (options.models.batching.max_queue_wait < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_queue_wait must not be negative");
  }
  if (options.models.batching.max_batch_tokens < 1) {
    return absl::InvalidArgumentError("--max_batch_tokens must be at least 1");
  }
  if (options.models.batching.max_batch_size < 1 ||
      options.models.batching.max_queue_size < 1) {
    return absl::InvalidArgumentError(
        "--max_batch_size and --max_queue_size must be at least 1");
  }
  options.allow_no_models = absl::GetFlag(FLAGS_allow_no_models);
  options.skip_bad_models = absl::GetFlag(FLAGS_skip_bad_models);
  absl::StatusOr<std::map<pipelines::Task, std::string>> defaults =
      ParseDefaultModels(absl::GetFlag(FLAGS_default_model));
  if (!defaults.ok()) return defaults.status();
  options.default_models = std::move(*defaults);
  options.threads = absl::GetFlag(FLAGS_threads);
  if (options.threads < 0) {
    return absl::InvalidArgumentError("--threads must not be negative");
  }
  options.cgroup_root = absl::GetFlag(FLAGS_cgroup_root);
  options.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  options.max_connection_idle = absl::GetFlag(FLAGS_max_connection_idle);
  options.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  options.max_stream_buffer_bytes = absl::GetFlag(FLAGS_max_stream_buffer_bytes);
  options.stream_write_timeout = absl::GetFlag(FLAGS_stream_write_timeout);
  if (options.max_stream_buffer_bytes < 1 ||
      options.stream_write_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--max_stream_buffer_bytes and --stream_write_timeout must be positive");
  }
  if (options.handshake_timeout <= absl::ZeroDuration() ||
      options.max_connection_idle <= absl::ZeroDuration() ||
      options.max_connection_age < absl::ZeroDuration() ||
      options.max_concurrent_streams < 1) {
    return absl::InvalidArgumentError(
        "--handshake_timeout and --max_connection_idle must be positive, "
        "--max_connection_age not negative, --max_concurrent_streams at least 1");
  }
  absl::StatusOr<RequestLogFormat> request_log =
      ParseRequestLogFormat(absl::GetFlag(FLAGS_request_log));
  if (!request_log.ok()) return FlagError("request_log", request_log.status());
  options.request_log = *request_log;
  if (options.grpc_address.empty()) {
    return absl::InvalidArgumentError("--grpc_address must not be empty");
  }
  if (absl::Status s = CheckAddress("--grpc_address", options.grpc_address); !s.ok()) {
    return s;
  }
  if (!options.metrics_address.empty()) {
    if (absl::Status s = CheckAddress("--metrics_address", options.metrics_address);
        !s.ok()) {
      return s;
    }
  }
  if (!options.http_address.empty()) {
    if (absl::Status s = CheckAddress("--http_address", options.http_address); !s.ok()) {
      return s;
    }
    // Debian's civetweb crashes on its first TLS request (OpenSSL 3): rather
    // than serve plaintext beside a TLS gRPC port, refuse the combination.
    if (!options.tls_cert_file.empty()) {
      return absl::InvalidArgumentError(
          "--http_address cannot be combined with --tls_cert: the HTTP front end "
          "serves plaintext only; terminate TLS in a proxy in front of it");
    }
  }
  if (options.shutdown_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--shutdown_grace must not be negative");
  }
  if (options.max_message_bytes < 1024) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max_message_bytes must be at least 1024, got ", options.max_message_bytes));
  }
  return options;
}

}  // namespace heed::server
