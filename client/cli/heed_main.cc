// heed: the command-line client of heed-server.
//
//   heed [--address=host:port] [--deadline=30s] [--json] COMMAND [ARGS]
//
// Errors print the gRPC status code and message and exit non-zero.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/lib/heed_client.h"
#include "google/protobuf/util/json_util.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50051", "heed-server's host:port.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(30), "Deadline of each call.");
ABSL_FLAG(bool, json, false, "Print machine-readable JSON.");

namespace {

constexpr char kUsage[] = R"(heed: call a heed-server.

Usage: heed [flags] COMMAND [ARGS]

Commands:
  health [SERVICE]   Ask grpc.health.v1 whether the server (or SERVICE) is serving.
                     Exit code 0 only when SERVING.
  models [NAME]      List the loaded models, or describe one.

Flags:
  --address=HOST:PORT  heed-server to call (default 127.0.0.1:50051)
  --deadline=DURATION  deadline of each call (default 30s)
  --json               machine-readable output
)";

// Exit codes: 0 ok, 1 the call failed, 2 usage error, 3 not serving.
int Fail(const absl::Status& status) {
  std::fprintf(stderr, "heed: %s: %s\n",
               std::string(absl::StatusCodeToString(status.code())).c_str(),
               std::string(status.message()).c_str());
  return 1;
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

int RunHealth(heed::client::HeedClient& client, const std::vector<std::string>& args) {
  const std::string service = args.empty() ? "" : args[0];
  absl::StatusOr<std::string> status = client.CheckHealth(service);
  if (!status.ok()) return Fail(status.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("{\"service\":\"%s\",\"status\":\"%s\"}\n", service.c_str(),
                status->c_str());
  } else {
    std::printf("%s\n", status->c_str());
  }
  return *status == "SERVING" ? 0 : 3;
}

void PrintModel(const heed::v1::Model& model) {
  std::printf("%-24s %-20s %-40s %-10s %-8s max_input=%d%s\n", model.name().c_str(),
              heed::v1::Task_Name(model.task()).c_str(), model.architecture().c_str(),
              heed::v1::ComputeType_Name(model.compute_type()).c_str(),
              model.ready() ? "ready" : "loading", model.max_input_tokens(),
              model.is_default() ? " (default)" : "");
}

int RunModels(heed::client::HeedClient& client, const std::vector<std::string>& args) {
  const bool json = absl::GetFlag(FLAGS_json);
  if (!args.empty()) {
    absl::StatusOr<heed::v1::Model> model = client.GetModel(args[0]);
    if (!model.ok()) return Fail(model.status());
    if (json) {
      std::printf("%s\n", ToJson(*model).c_str());
    } else {
      PrintModel(*model);
    }
    return 0;
  }
  absl::StatusOr<std::vector<heed::v1::Model>> models = client.ListModels();
  if (!models.ok()) return Fail(models.status());
  if (json) {
    heed::v1::ListModelsResponse response;
    for (const auto& model : *models) *response.add_models() = model;
    std::printf("%s\n", ToJson(response).c_str());
  } else if (models->empty()) {
    std::printf("no models loaded\n");
  } else {
    for (const auto& model : *models) PrintModel(model);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());

  heed::client::ClientOptions options;
  options.address = absl::GetFlag(FLAGS_address);
  options.deadline = absl::GetFlag(FLAGS_deadline);
  heed::client::HeedClient client(options);

  if (command == "health") return RunHealth(client, args);
  if (command == "models") return RunModels(client, args);
  std::fprintf(stderr, "heed: unknown command \"%s\"\n\n%s", command.c_str(), kUsage);
  return 2;
}
