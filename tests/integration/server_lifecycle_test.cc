// The walking skeleton end to end: heed-server as a real process, health and
// catalog through the client library and the CLI, reflection over raw gRPC,
// /metrics over HTTP, and graceful shutdown on signals.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/lib/heed_client.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/testing/http_get.h"
#include "tests/testing/server_process.h"
#include "tests/testing/subprocess.h"

namespace heed {
namespace {

using ::heed::testing::ServerProcess;

using ::heed::testing::RunCommand;
using CommandResult = ::heed::testing::CommandResult;

class ServerLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // An empty models directory, allowed explicitly: the server then serves
    // health and an empty catalog.
    models_dir_ = std::filesystem::temp_directory_path() /
                  ("heed_empty_models_" + std::to_string(getpid()));
    std::filesystem::create_directories(models_dir_);
    auto server = ServerProcess::Start(
        HEED_SERVER_BINARY,
        {"--models_dir=" + models_dir_.string(), "--allow_no_models"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(std::move(*server));
    client::ClientOptions options;
    options.address = server_->grpc_address();
    options.deadline = absl::Seconds(10);
    client_.emplace(options);
  }

  void TearDown() override { std::filesystem::remove_all(models_dir_); }

  std::filesystem::path models_dir_;
  std::optional<ServerProcess> server_;
  std::optional<client::HeedClient> client_;
};

TEST_F(ServerLifecycleTest, HealthIsServing) {
  absl::StatusOr<std::string> overall = client_->CheckHealth("");
  ASSERT_TRUE(overall.ok()) << overall.status();
  EXPECT_EQ(*overall, "SERVING");
  absl::StatusOr<std::string> inference = client_->CheckHealth("heed.v1.Inference");
  ASSERT_TRUE(inference.ok()) << inference.status();
  EXPECT_EQ(*inference, "SERVING");
  EXPECT_EQ(client_->CheckHealth("no.such.Service").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ServerLifecycleTest, CatalogIsEmptyWithoutModels) {
  auto models = client_->ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_TRUE(models->empty());
  auto missing = client_->GetModel("opus-mt-en-de");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("opus-mt-en-de"), std::string::npos);
  EXPECT_EQ(client_->GetModel("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerLifecycleTest, TasksWithoutModelsAreNotFound) {
  auto channel =
      grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials());
  auto stub = heed::v1::Inference::NewStub(channel);
  grpc::ClientContext context;
  heed::v1::TranslateRequest request;
  request.set_text("A dog runs.");
  heed::v1::TranslateResponse response;
  grpc::Status status = stub->Translate(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("TASK_TRANSLATION"), std::string::npos);
}

TEST_F(ServerLifecycleTest, ReflectionListsTheInferenceService) {
  auto channel =
      grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  // ServerReflectionRequest{list_services: ""}: field 7, wire type 2, length 0.
  const char request_bytes[] = {0x3a, 0x00};
  grpc::Slice slice(request_bytes, sizeof(request_bytes));
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_NE(bytes.find("heed.v1.Inference"), std::string::npos);
  EXPECT_NE(bytes.find("grpc.health.v1.Health"), std::string::npos);
  context.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(ServerLifecycleTest, MetricsEndpointExportsBuildInfoAndProcessMetrics) {
  auto response = testing::HttpGet(server_->metrics_port(), "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 200);
  EXPECT_NE(response->body.find("heed_build_info{"), std::string::npos) << response->body;
  EXPECT_NE(response->body.find("isa=\""), std::string::npos);
  EXPECT_NE(response->body.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(response->body.find("process_open_fds"), std::string::npos);
  EXPECT_NE(response->body.find("process_start_time_seconds"), std::string::npos);
}

TEST_F(ServerLifecycleTest, SigtermExitsCleanly) {
  auto code = server_->Stop(SIGTERM, absl::Seconds(20));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << server_->output();
  EXPECT_NE(server_->output().find("heed-server stopped"), std::string::npos);
}

TEST_F(ServerLifecycleTest, SigintExitsCleanly) {
  auto code = server_->Stop(SIGINT, absl::Seconds(20));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << server_->output();
}

TEST_F(ServerLifecycleTest, CliHealthAndModels) {
  const std::string address = absl::StrCat(" --address=", server_->grpc_address());
  CommandResult health = RunCommand(std::string(HEED_CLI_BINARY) + address + " health");
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_EQ(health.output, "SERVING\n");

  CommandResult json =
      RunCommand(std::string(HEED_CLI_BINARY) + address + " --json health");
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"status\":\"SERVING\""), std::string::npos);

  CommandResult models = RunCommand(std::string(HEED_CLI_BINARY) + address + " models");
  EXPECT_EQ(models.exit_code, 0) << models.output;
  EXPECT_EQ(models.output, "no models loaded\n");

  CommandResult missing =
      RunCommand(std::string(HEED_CLI_BINARY) + address + " models nope");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("NOT_FOUND"), std::string::npos) << missing.output;
}

TEST(ServerInfoTest, DescribesTheBuildTheIsaAndTheLimits) {
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY,
      {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR, "--max_queue_size=7",
       "--max_request_cost=999", "--max_queue_wait=250ms", "--threads=1"});
  ASSERT_TRUE(server.ok()) << server.status();
  client::ClientOptions options;
  options.address = server->grpc_address();
  client::HeedClient heed(options);
  absl::StatusOr<heed::v1::ServerInfo> info = heed.GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->version().empty());
  EXPECT_FALSE(info->git_revision().empty());
  EXPECT_FALSE(info->isa().empty());
  EXPECT_EQ(info->compute_threads(), 1);
  EXPECT_FALSE(info->authentication_required());
  ASSERT_EQ(info->compute_types_size(), 3);
  EXPECT_EQ(info->compute_types(0).compute_type(), heed::v1::COMPUTE_TYPE_FLOAT32);
  EXPECT_TRUE(info->compute_types(0).native());
  // The same decision the models report for themselves.
  absl::StatusOr<std::vector<heed::v1::Model>> models = heed.ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  ASSERT_FALSE(models->empty());
  for (const heed::v1::Model& model : *models) {
    for (const auto& type : info->compute_types()) {
      if (type.compute_type() != model.requested_compute_type()) continue;
      EXPECT_EQ(type.runs_as(), model.compute_type()) << model.name();
      EXPECT_EQ(type.native(), model.compute_type_native()) << model.name();
    }
  }
  const heed::v1::ServerLimits& limits = info->limits();
  EXPECT_EQ(limits.max_texts_per_request(), 256);
  EXPECT_EQ(limits.max_text_bytes(), 1 << 20);
  EXPECT_EQ(limits.max_request_cost(), 999);
  EXPECT_EQ(limits.max_queue_size(), 7);
  EXPECT_EQ(limits.max_queue_wait().nanos(), 250'000'000);

  CommandResult text = RunCommand(std::string(HEED_CLI_BINARY) +
                                  " --address=" + server->grpc_address() + " info");
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("queue per model  7 requests, 0.250 s of work"),
            std::string::npos)
      << text.output;
}

TEST(TokenizeTest, SplitsTheTextAsTheModelWouldWithoutRunningIt) {
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY, {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR});
  ASSERT_TRUE(server.ok()) << server.status();
  client::ClientOptions options;
  options.address = server->grpc_address();
  client::HeedClient heed(options);

  heed::v1::TokenizeRequest request;
  request.set_text("A dog runs.");
  request.set_task(heed::v1::TASK_TRANSLATION);
  absl::StatusOr<heed::v1::TokenizeResponse> tokens = heed.Tokenize(request);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->model().name(), "marian-tiny");
  ASSERT_GE(tokens->tokens_size(), 2);
  EXPECT_EQ(tokens->tokens(tokens->tokens_size() - 1).piece(), "</s>");
  EXPECT_EQ(tokens->tokens(0).begin(), 0);
  EXPECT_EQ(tokens->tokens(tokens->tokens_size() - 2).end(), 11);  // the text's end
  EXPECT_GT(tokens->max_input_tokens(), 0);

  // The same count the model's limit is checked against: no limit applies.
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "word ";
  request.set_text(long_text);
  tokens = heed.Tokenize(request);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_GT(tokens->tokens_size(), tokens->max_input_tokens());

  request.set_text("What a film!");
  request.set_model("bert-tiny");
  tokens = heed.Tokenize(request);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->tokens(0).piece(), "[CLS]");

  request.set_model("nope");
  EXPECT_EQ(client::DetailsOf(heed.Tokenize(request).status()).reason, "MODEL_NOT_FOUND");
  request.clear_model();
  request.clear_task();
  EXPECT_EQ(heed.Tokenize(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.set_task(heed::v1::TASK_SENTIMENT);
  request.set_text("");
  EXPECT_EQ(client::DetailsOf(heed.Tokenize(request).status()).reason, "EMPTY_INPUT");

  CommandResult text =
      RunCommand(std::string(HEED_CLI_BINARY) + " --address=" + server->grpc_address() +
                 " tokenize --task=sentiment hi");
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("[CLS]"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find(" tokens; bert-tiny accepts "), std::string::npos)
      << text.output;
}

TEST(CliTest, UnreachableServerIsAnError) {
  // Port 1 on loopback: nothing listens there, so the call fails UNAVAILABLE.
  CommandResult result = RunCommand(std::string(HEED_CLI_BINARY) +
                                    " --address=127.0.0.1:1 --deadline=2s health");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("UNAVAILABLE"), std::string::npos) << result.output;
}

TEST(ServerStartTest, MissingModelsDirectoryIsAnError) {
  auto server = ServerProcess::Start(HEED_SERVER_BINARY, {"--models_dir=/nonexistent"},
                                     absl::Seconds(10));
  EXPECT_FALSE(server.ok());
}

TEST(CliTest, UnknownCommandIsAUsageError) {
  CommandResult result = RunCommand(std::string(HEED_CLI_BINARY) + " frobnicate");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("unknown command"), std::string::npos);
}

}  // namespace
}  // namespace heed
