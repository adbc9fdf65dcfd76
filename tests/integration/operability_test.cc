// What an operator meets when starting and running heed-server as a real
// process: start-up errors that name their cause (busy ports, no models, a
// model that fails to load), --help and --version, the compute thread count
// under a cgroup CPU quota, default models, the request log with W3C trace
// ids, and the liveness health service.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "client/lib/heed_client.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "heed/v1/inference.grpc.pb.h"
#include "tests/testing/http_get.h"
#include "tests/testing/server_process.h"
#include "tests/testing/subprocess.h"

namespace heed {
namespace {

namespace fs = std::filesystem;
using ::heed::testing::CommandResult;
using ::heed::testing::RunCommand;
using ::heed::testing::ServerProcess;
using ::testing::HasSubstr;
using ::testing::Not;

// heed-server on free ports with `args`, run to completion (for start-up
// errors, --help and --version); `timeout` kills a server that would serve.
CommandResult RunServer(const std::vector<std::string>& args) {
  return RunCommand(absl::StrCat("timeout 60 ", HEED_SERVER_BINARY,
                                 " --grpc_address=127.0.0.1:0 "
                                 "--metrics_address=127.0.0.1:0 ",
                                 absl::StrJoin(args, " ")));
}

// A directory removed at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& what = "models") {
    path_ = fs::temp_directory_path() /
            absl::StrCat("heed_operability_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                         "_", what);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

// A models directory with one good model (a link to a fixture) and, when
// asked, one that fails to load (a config.json without weights).
void MakeModelsDir(const fs::path& dir, bool with_broken_model) {
  fs::create_directory_symlink(fs::path(HEED_GOLDEN_MODELS_DIR) / "bert-tiny",
                               dir / "bert-tiny");
  if (with_broken_model) {
    fs::create_directories(dir / "broken");
    std::ofstream(dir / "broken" / "config.json")
        << R"({"model_type": "bert", "architectures": ["BertForSequenceClassification"]})";
  }
}

client::HeedClient ClientFor(const ServerProcess& server) {
  client::ClientOptions options;
  options.address = server.grpc_address();
  options.deadline = absl::Seconds(10);
  return client::HeedClient(options);
}

TEST(StartupTest, ZeroModelsIsAnErrorUnlessAllowed) {
  TempDir models;
  CommandResult result = RunServer({"--models_dir=" + models.str()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, HasSubstr("holds no model directory"));
  EXPECT_THAT(result.output, HasSubstr("--allow_no_models"));
  EXPECT_THAT(result.output, Not(HasSubstr("serving")));

  auto allowed = ServerProcess::Start(
      HEED_SERVER_BINARY, {"--models_dir=" + models.str(), "--allow_no_models"});
  EXPECT_TRUE(allowed.ok()) << allowed.status();
}

TEST(StartupTest, BusyGrpcPortIsAnError) {
  TempDir models;
  auto first = ServerProcess::Start(
      HEED_SERVER_BINARY, {"--models_dir=" + models.str(), "--allow_no_models"});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string address = first->grpc_address();
  CommandResult second = RunServer(
      {"--models_dir=" + models.str(), "--allow_no_models", "--grpc_address=" + address});
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_THAT(second.output, HasSubstr("cannot listen for gRPC on " + address));
}

TEST(StartupTest, BusyMetricsPortIsAnError) {
  TempDir models;
  auto first = ServerProcess::Start(
      HEED_SERVER_BINARY, {"--models_dir=" + models.str(), "--allow_no_models"});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string address = absl::StrCat("127.0.0.1:", first->metrics_port());
  CommandResult second = RunServer({"--models_dir=" + models.str(), "--allow_no_models",
                                    "--metrics_address=" + address});
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_THAT(second.output, HasSubstr("cannot serve metrics on " + address));
}

TEST(StartupTest, AModelThatFailsToLoadStopsTheServer) {
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/true);
  CommandResult result = RunServer({"--models_dir=" + models.str()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output,
              HasSubstr("error cannot load model " + models.str() + "/broken"));
  EXPECT_THAT(result.output, HasSubstr("--skip_bad_models"));
  EXPECT_THAT(result.output, Not(HasSubstr(" info serving")));
}

TEST(StartupTest, SkipBadModelsServesTheOthers) {
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/true);
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY, {"--models_dir=" + models.str(), "--skip_bad_models"});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT(server->output(),
              HasSubstr("cannot load model " + models.str() + "/broken"));
  EXPECT_THAT(server->output(), HasSubstr("skipped 1 that failed"));
  auto listed = ClientFor(*server).ListModels();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name(), "bert-tiny");
}

TEST(StartupTest, OnlyBadModelsIsAnErrorEvenWhenSkipping) {
  TempDir models;
  fs::create_directories(models.path() / "broken");
  std::ofstream(models.path() / "broken" / "config.json") << "{}";
  CommandResult result = RunServer({"--models_dir=" + models.str(), "--skip_bad_models"});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, HasSubstr("none of the 1 model(s) loaded"));
}

TEST(StartupTest, HelpListsEachProgramsOwnFlags) {
  CommandResult server = RunCommand(std::string(HEED_SERVER_BINARY) + " --help");
  EXPECT_THAT(server.output, Not(HasSubstr("No flags matched")));
  for (const char* flag : {"--models_dir", "--skip_bad_models", "--allow_no_models",
                           "--threads", "--default_model", "--request_log"}) {
    EXPECT_THAT(server.output, HasSubstr(flag));
  }
  CommandResult loadgen = RunCommand(std::string(HEED_LOADGEN_BINARY) + " --help");
  EXPECT_THAT(loadgen.output, Not(HasSubstr("No flags matched")));
  EXPECT_THAT(loadgen.output, HasSubstr("--concurrency"));
}

TEST(StartupTest, VersionNamesHeedGitIsaOneDnnAndGrpc) {
  CommandResult server = RunCommand(std::string(HEED_SERVER_BINARY) + " --version");
  EXPECT_EQ(server.exit_code, 0) << server.output;
  EXPECT_THAT(server.output,
              HasSubstr(absl::StrCat("heed-server ", HEED_VERSION, " (git ")));
  EXPECT_THAT(server.output, HasSubstr("\nisa: "));
  EXPECT_THAT(server.output, HasSubstr("\noneDNN: "));
  EXPECT_THAT(server.output, HasSubstr("\ngRPC: "));
  EXPECT_THAT(server.output, Not(HasSubstr("Debug build")));
  CommandResult loadgen = RunCommand(std::string(HEED_LOADGEN_BINARY) + " --version");
  EXPECT_THAT(loadgen.output, HasSubstr(absl::StrCat("heed-loadgen ", HEED_VERSION)));
}

TEST(StartupTest, LogLinesHaveTimestampsLevelsAndAModelLine) {
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/false);
  auto server =
      ServerProcess::Start(HEED_SERVER_BINARY, {"--models_dir=" + models.str()});
  ASSERT_TRUE(server.ok()) << server.status();
  // "2026-12-01T02:04:10.123Z info loaded model bert-tiny: task sentiment, ..."
  EXPECT_THAT(
      server->output(),
      ::testing::ContainsRegex(
          "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z info "
          "loaded model bert-tiny: task sentiment, float32, isa [a-z0-9_]+, "
          "[0-9]+ threads, load [0-9]+ ms, warm-up [0-9]+ ms"));
}

int AffinityCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
}

std::string Scrape(const ServerProcess& server) {
  auto response = testing::HttpGet(server.metrics_port(), "/metrics");
  return response.ok() ? response->body : "";
}

TEST(ThreadsTest, CgroupQuotaLimitsComputeThreads) {
  // A fake cgroup root with a 1-CPU quota in every layout the kernel uses, so
  // that it applies whatever this process's cgroup path is.
  TempDir cgroup("cgroup");
  std::ofstream(cgroup.path() / "cpu.max") << "100000 100000\n";
  fs::create_directories(cgroup.path() / "unified");
  std::ofstream(cgroup.path() / "unified" / "cpu.max") << "100000 100000\n";
  for (const char* v1 : {"cpu", "cpu,cpuacct"}) {
    fs::create_directories(cgroup.path() / v1);
    std::ofstream(cgroup.path() / v1 / "cpu.cfs_quota_us") << "100000\n";
    std::ofstream(cgroup.path() / v1 / "cpu.cfs_period_us") << "100000\n";
  }
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/false);
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY,
      {"--models_dir=" + models.str(), "--cgroup_root=" + cgroup.str()});
  ASSERT_TRUE(server.ok()) << server.status();
  if (AffinityCores() > 1) {
    EXPECT_THAT(server->output(),
                HasSubstr("compute threads: 1 (cgroup quota 1.00 CPUs"));
  }
  EXPECT_THAT(server->output(), HasSubstr("bert-tiny: task sentiment, float32"));
  EXPECT_THAT(server->output(), HasSubstr(", 1 threads,"));
  EXPECT_THAT(Scrape(*server), HasSubstr("\nheed_compute_threads 1\n"));
}

TEST(ThreadsTest, ThreadsFlagOverrides) {
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/false);
  auto server = ServerProcess::Start(HEED_SERVER_BINARY,
                                     {"--models_dir=" + models.str(), "--threads=3"});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT(server->output(), HasSubstr("compute threads: 3 (--threads)"));
  EXPECT_THAT(Scrape(*server), HasSubstr("\nheed_compute_threads 3\n"));
}

std::string DefaultOf(const std::vector<heed::v1::Model>& models, heed::v1::Task task) {
  for (const auto& m : models) {
    if (m.task() == task && m.is_default()) return m.name();
  }
  return "";
}

TEST(DefaultModelTest, WithoutFlagsTheFirstByNameIsTheDefault) {
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY, {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR});
  ASSERT_TRUE(server.ok()) << server.status();
  auto models = ClientFor(*server).ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_EQ(DefaultOf(*models, heed::v1::TASK_SENTIMENT), "bert-tiny");
  EXPECT_THAT(server->output(), HasSubstr("default model of sentiment: bert-tiny"));
}

TEST(DefaultModelTest, RepeatedFlagsChooseEachTasksDefault) {
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY, {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR,
                           "--default_model=sentiment=distilbert-tiny",
                           "--default_model=translation=marian-tiny"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = ClientFor(*server);
  auto models = client.ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_EQ(DefaultOf(*models, heed::v1::TASK_SENTIMENT), "distilbert-tiny");
  EXPECT_EQ(DefaultOf(*models, heed::v1::TASK_TRANSLATION), "marian-tiny");
  // A request that names no model goes to the default.
  auto channel =
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials());
  auto stub = heed::v1::Inference::NewStub(channel);
  grpc::ClientContext context;
  heed::v1::ClassifySentimentRequest request;
  request.add_texts("A fine film.");
  heed::v1::ClassifySentimentResponse response;
  ASSERT_TRUE(stub->ClassifySentiment(&context, request, &response).ok());
  EXPECT_EQ(response.model().name(), "distilbert-tiny");
}

TEST(DefaultModelTest, UnknownNameOrWrongTaskIsAnError) {
  const std::string models = std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR;
  CommandResult unknown = RunServer({models, "--default_model=sentiment=nope"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_THAT(unknown.output, HasSubstr("no model named nope; the models are: "));
  CommandResult wrong_task = RunServer({models, "--default_model=sentiment=marian-tiny"});
  EXPECT_EQ(wrong_task.exit_code, 1) << wrong_task.output;
  EXPECT_THAT(wrong_task.output,
              HasSubstr("marian-tiny serves translation, not sentiment"));
  CommandResult bad_task = RunServer({models, "--default_model=poetry=marian-tiny"});
  EXPECT_EQ(bad_task.exit_code, 2) << bad_task.output;
}

TEST(RequestLogTest, JsonLinesCarryTheTraceIdWhichTrailingMetadataEchoes) {
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/false);
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY, {"--models_dir=" + models.str(), "--request_log=json"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials());
  auto stub = heed::v1::Inference::NewStub(channel);
  const std::string traceparent =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  grpc::ClientContext context;
  context.AddMetadata("traceparent", traceparent);
  heed::v1::ClassifySentimentRequest request;
  request.add_texts("What a wonderful film.");
  heed::v1::ClassifySentimentResponse response;
  ASSERT_TRUE(stub->ClassifySentiment(&context, request, &response).ok());
  const auto& trailers = context.GetServerTrailingMetadata();
  auto echoed = trailers.find("traceparent");
  ASSERT_NE(echoed, trailers.end());
  EXPECT_EQ(std::string(echoed->second.data(), echoed->second.size()), traceparent);
  auto timing = trailers.find("server-timing");
  ASSERT_NE(timing, trailers.end());
  EXPECT_THAT(std::string(timing->second.data(), timing->second.size()),
              ::testing::MatchesRegex("queue;dur=[0-9.]+, compute;dur=[0-9.]+, "
                                      "total;dur=[0-9.]+"));
  // A rejected call is logged too, without a trace id.
  grpc::ClientContext bad_context;
  heed::v1::ClassifySentimentRequest bad;
  bad.set_model("no-such-model");
  bad.add_texts("x");
  EXPECT_EQ(stub->ClassifySentiment(&bad_context, bad, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(server->Stop(SIGTERM, absl::Seconds(20)).ok());
  EXPECT_THAT(
      server->output(),
      ::testing::ContainsRegex(
          "\n\\{\"time\":\"[0-9T:.-]+Z\",\"method\":\"ClassifySentiment\","
          "\"model\":\"bert-tiny\",\"task\":\"sentiment\",\"code\":\"OK\","
          "\"input_tokens\":[0-9]+,\"output_tokens\":0,\"queue_ms\":[0-9.e-]+,"
          "\"compute_ms\":[0-9.e-]+,\"total_ms\":[0-9.e-]+,\"peer\":\"ipv[46]:[^\"]+\","
          "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"\\}\n"))
      << server->output();
  EXPECT_THAT(server->output(), HasSubstr("\"model\":\"unknown\",\"task\":\"sentiment\","
                                          "\"code\":\"NOT_FOUND\""));
}

TEST(HealthTest, LivenessServesAlongsideReadiness) {
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/false);
  auto server =
      ServerProcess::Start(HEED_SERVER_BINARY, {"--models_dir=" + models.str()});
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = ClientFor(*server);
  auto liveness = client.CheckHealth("liveness");
  ASSERT_TRUE(liveness.ok()) << liveness.status();
  EXPECT_EQ(*liveness, "SERVING");
  auto overall = client.CheckHealth("");
  ASSERT_TRUE(overall.ok()) << overall.status();
  EXPECT_EQ(*overall, "SERVING");
}

TEST(StartupTest, AddressesOutsideThePortRangeAreRefused) {
  TempDir models;
  CommandResult result = RunServer({"--models_dir=" + models.str(), "--allow_no_models",
                                    "--grpc_address=127.0.0.1:99999"});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_THAT(result.output, HasSubstr("port from 0 to 65535"));
}

TEST(StartupTest, TwoModelsUnderOneNameAreRefused) {
  TempDir dir;
  std::ofstream(dir.path() / "config.json")
      << R"({"models": [{"directory": ")" << HEED_GOLDEN_MODELS_DIR
      << R"(/bert-tiny", "name": "sst"}, {"directory": ")" << HEED_GOLDEN_MODELS_DIR
      << R"(/distilbert-tiny", "name": "sst"}]})";
  CommandResult result = RunServer({"--config=" + (dir.path() / "config.json").string()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, HasSubstr("two models are named sst"));
}

TEST(StartupTest, ASymlinkLoopInTheModelsDirectoryIsAnErrorNotACrash) {
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/false);
  fs::create_symlink(models.path() / "loop", models.path() / "loop");
  CommandResult result = RunServer({"--models_dir=" + models.str()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, HasSubstr(models.str() + "/loop"));
}

TEST(RequestLimitsTest, ARequestOverTheCostLimitIsRefusedBeforeAnyCompute) {
  // The fixture model accepts 63 output tokens, so the limit is scaled down
  // with it: (16 beams + 16 aligned hypotheses) x 41 steps = 1,312 > 200.
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY,
      {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR, "--max_request_cost=200"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = heed::v1::Inference::NewStub(
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials()));
  // Every field within its documented range; on a real model with the default
  // limit the same shape (511 tokens) is what held a server for minutes.
  heed::v1::TranslateRequest request;
  request.set_text("A dog runs.");
  request.mutable_options()->set_beam_size(16);
  request.mutable_options()->set_num_return_sequences(16);
  request.mutable_options()->set_max_output_tokens(40);
  request.mutable_options()->set_min_output_tokens(40);
  request.set_return_alignment(true);
  grpc::ClientContext context;
  heed::v1::TranslateResponse response;
  const absl::Time start = absl::Now();
  grpc::Status status = stub->Translate(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("the request's cost is 1312"));
  EXPECT_THAT(status.error_message(), HasSubstr("(--max_request_cost) is 200"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));  // refused, not computed
  // Within the limit the same options run: 32 x 5 = 160.
  request.mutable_options()->set_max_output_tokens(4);
  request.mutable_options()->set_min_output_tokens(0);
  grpc::ClientContext ok_context;
  EXPECT_TRUE(stub->Translate(&ok_context, request, &response).ok());
  EXPECT_EQ(response.hypotheses_size(), 16);
}

TEST(RequestLimitsTest, HugeModelNamesAreCutInErrors) {
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY, {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = heed::v1::Inference::NewStub(
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials()));
  heed::v1::ClassifySentimentRequest request;
  request.set_model(std::string(1 << 20, 'm'));
  request.add_texts("fine");
  grpc::ClientContext context;
  heed::v1::ClassifySentimentResponse response;
  grpc::Status status = stub->ClassifySentiment(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LT(status.error_message().size(), 200u);
  EXPECT_THAT(status.error_message(), HasSubstr("(1048576 bytes)"));
}

TEST(ConnectionsTest, SilentConnectionsAreClosedAndIdleOnesToldToGoAway) {
  TempDir models;
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY, {"--models_dir=" + models.str(), "--allow_no_models",
                           "--handshake_timeout=1s", "--max_connection_idle=1s"});
  ASSERT_TRUE(server.ok()) << server.status();

  // A TCP connection that never sends a byte is closed after the handshake
  // timeout instead of holding a file descriptor forever.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server->grpc_port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  timeval wait{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
  const absl::Time start = absl::Now();
  char byte;
  ssize_t n;
  // The server may send its HTTP/2 settings first; the close is what counts.
  while ((n = recv(fd, &byte, 1, 0)) > 0) {
  }
  EXPECT_EQ(n, 0) << "the server did not close the silent connection";
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  close(fd);

  // A connected channel that makes no call is told to go away and turns idle.
  auto channel =
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(10)));
  EXPECT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  const absl::Time idle_start = absl::Now();
  while (channel->GetState(false) == GRPC_CHANNEL_READY &&
         absl::Now() - idle_start < absl::Seconds(20)) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_NE(channel->GetState(false), GRPC_CHANNEL_READY);
  std::printf("idle connection left READY after %.1f s\n",
              absl::ToDoubleSeconds(absl::Now() - idle_start));
}

int ConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(ConnectionsTest, ManyConnectionsDoNotStopTheListener) {
  // Started with a soft limit of 64 descriptors (inherited from this process),
  // heed-server raises it to the hard limit. Before, 200 connections ran it
  // out of descriptors, gRPC's accept() failed with EMFILE, and the listener
  // never accepted again: every later client got DEADLINE_EXCEEDED.
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 1024) {
    GTEST_SKIP() << "the hard descriptor limit (" << saved.rlim_max << ") is too low";
  }
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/false);
  rlimit low = saved;
  low.rlim_cur = 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  auto server =
      ServerProcess::Start(HEED_SERVER_BINARY, {"--models_dir=" + models.str()});
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT(server->output(), HasSubstr("file descriptors: limit"));

  std::vector<int> connections;
  for (int i = 0; i < 200; ++i) {
    const int fd = ConnectTo(server->grpc_port());
    ASSERT_GE(fd, 0) << "connection " << i;
    connections.push_back(fd);
  }
  absl::SleepFor(absl::Milliseconds(500));  // the server accepts them all
  for (int fd : connections) close(fd);

  client::ClientOptions options;
  options.address = server->grpc_address();
  options.deadline = absl::Seconds(10);
  client::HeedClient heed(options);
  auto models_listed = heed.ListModels();
  ASSERT_TRUE(models_listed.ok()) << models_listed.status();
  EXPECT_FALSE(models_listed->empty());
  const std::string page = Scrape(*server);
  EXPECT_THAT(page, HasSubstr("process_max_fds "));
}

TEST(ConnectionsTest, AFloodOfConnectionsMeetsTheMemoryQuota) {
  // 1,000 connections that send the HTTP/2 preface and then nothing, against
  // a 4 MB quota: gRPC drops connections beyond it, and calls still work.
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/false);
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY, {"--models_dir=" + models.str(), "--max_grpc_memory=4000000"});
  ASSERT_TRUE(server.ok()) << server.status();
  static constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
  std::vector<int> connections;
  for (int i = 0; i < 1000; ++i) {
    const int fd = ConnectTo(server->grpc_port());
    ASSERT_GE(fd, 0) << "connection " << i;
    ASSERT_EQ(send(fd, kPreface, sizeof(kPreface) - 1, MSG_NOSIGNAL),
              static_cast<ssize_t>(sizeof(kPreface) - 1));
    connections.push_back(fd);
  }
  // The server drops connections as it reaches them: polled, not after a
  // fixed pause (one second was too short for a sanitized server on a busy
  // machine, which had dropped none by then).
  std::vector<bool> closed(connections.size(), false);
  int dropped = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (dropped == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(200));
    for (size_t i = 0; i < connections.size(); ++i) {
      if (closed[i]) continue;
      char buffer[4096];
      ssize_t n;
      while ((n = recv(connections[i], buffer, sizeof(buffer), MSG_DONTWAIT)) > 0) {
      }
      if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        closed[i] = true;
        ++dropped;
      }
    }
  }
  std::printf("%d of 1000 connections dropped\n", dropped);
  EXPECT_GT(dropped, 0);

  client::ClientOptions options;
  options.address = server->grpc_address();
  options.deadline = absl::Seconds(10);
  client::HeedClient heed(options);
  auto listed = heed.ListModels();
  EXPECT_TRUE(listed.ok()) << listed.status();
  for (int fd : connections) close(fd);
}

TEST(RequestLimitsTest, MalformedRequestBytesAreInvalidArgument) {
  TempDir models;
  MakeModelsDir(models.path(), /*with_broken_model=*/false);
  auto server =
      ServerProcess::Start(HEED_SERVER_BINARY, {"--models_dir=" + models.str()});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  // A field tag whose varint never ends: no protobuf parser accepts it.
  const char bytes[] = {'\x0a', '\xff', '\xff', '\xff', '\xff', '\xff', '\xff'};
  for (const char* method :
       {"/heed.v1.Inference/ClassifySentiment", "/heed.v1.Inference/Translate",
        "/heed.v1.Inference/ListModels", "/heed.v1.Inference/GetModel"}) {
    grpc::Slice slice(bytes, sizeof(bytes));
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_THAT(status.error_message(), HasSubstr("malformed protobuf")) << method;
  }
  EXPECT_THAT(Scrape(*server), HasSubstr("heed_requests_total{code=\"INVALID_ARGUMENT\","
                                         "model=\"unknown\",task=\"sentiment\"} 1"));
}

// Health checks answer at once while the server tokenizes megabyte texts:
// tokenization runs on the model's worker, not on gRPC's threads. (The ratio
// to an idle health check, with a floor for timer noise, not an absolute
// speed.)
TEST(RequestLimitsTest, HealthStaysFastWhileHugeTextsAreTokenized) {
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY, {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR});
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = ClientFor(*server);
  auto health_latencies = [&](int n) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      const absl::Time start = absl::Now();
      EXPECT_TRUE(client.CheckHealth("").ok());
      ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      absl::SleepFor(absl::Milliseconds(20));
    }
    std::sort(ms.begin(), ms.end());
    return ms;
  };
  const std::vector<double> idle = health_latencies(30);
  const double idle_p50 = idle[idle.size() / 2];

  std::string huge;
  while (huge.size() + 16 < (1 << 20)) huge += "A dog runs fast. ";
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&] {
      auto stub = heed::v1::Inference::NewStub(grpc::CreateChannel(
          server->grpc_address(), grpc::InsecureChannelCredentials()));
      while (!stop) {
        grpc::ClientContext context;
        heed::v1::ClassifySentimentRequest request;
        request.add_texts(huge);
        request.set_truncate_input(true);
        heed::v1::ClassifySentimentResponse response;
        if (stub->ClassifySentiment(&context, request, &response).ok()) ++answered;
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(500));  // the server is busy tokenizing now
  const std::vector<double> loaded = health_latencies(30);
  stop = true;
  for (auto& t : senders) t.join();
  const double loaded_max = loaded.back();
  EXPECT_GT(answered.load(), 0);
  EXPECT_LT(loaded_max, std::max(20 * idle_p50, 100.0))
      << "idle p50 " << idle_p50 << " ms, loaded max " << loaded_max << " ms";
  std::printf("health: idle p50 %.2f ms, under megabyte texts max %.2f ms; %d answered\n",
              idle_p50, loaded_max, answered.load());
}

// A client whose HTTP/2 window is small and who never reads: the server's
// writes wait on flow control, as they do for a client that stopped reading.
std::unique_ptr<heed::v1::Inference::Stub> NonReadingClientStub(
    const ServerProcess& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  return heed::v1::Inference::NewStub(grpc::CreateCustomChannel(
      server.grpc_address(), grpc::InsecureChannelCredentials(), args));
}

// Waits until the metrics page shows a stalled translation stream.
bool WaitForStalledStream(const ServerProcess& server) {
  const std::string series =
      "heed_requests_total{code=\"RESOURCE_EXHAUSTED\",model=\"marian-tiny\","
      "task=\"translation\"}";
  const absl::Time start = absl::Now();
  while (absl::Now() - start < absl::Seconds(20)) {
    if (Scrape(server).find(series) != std::string::npos) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

void ExpectStreamsThatAreNotReadToStop(const std::vector<std::string>& flags,
                                       bool check_a_reading_client) {
  std::vector<std::string> args = {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR};
  args.insert(args.end(), flags.begin(), flags.end());
  auto server = ServerProcess::Start(HEED_SERVER_BINARY, args);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NonReadingClientStub(*server);
  heed::v1::TranslateRequest request;
  request.set_model("marian-tiny");
  request.set_text("A dog runs through the green field next to the old house.");
  request.mutable_options()->set_max_output_tokens(60);
  request.mutable_options()->set_min_output_tokens(60);
  // Several streams at once, none read, so that the connection's window
  // fills too.
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<heed::v1::TranslateStreamResponse>>>
      readers;
  for (int i = 0; i < 8; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    readers.push_back(stub->TranslateStream(contexts.back().get(), request));
  }
  EXPECT_TRUE(WaitForStalledStream(*server)) << server->output();
  // The server gave up on them: the call ends instead of hanging.
  for (auto& reader : readers) {
    heed::v1::TranslateStreamResponse message;
    while (reader->Read(&message)) {
    }
    grpc::Status status = reader->Finish();
    EXPECT_THAT(status.error_code(),
                ::testing::AnyOf(grpc::StatusCode::OK, grpc::StatusCode::CANCELLED,
                                 grpc::StatusCode::RESOURCE_EXHAUSTED));
  }
  if (!check_a_reading_client) return;
  // A client that reads gets its whole stream (a short one: the fixture model
  // computes faster than loopback writes complete, so its messages queue).
  request.mutable_options()->set_max_output_tokens(4);
  request.mutable_options()->set_min_output_tokens(4);
  grpc::ClientContext context;
  auto reader =
      heed::v1::Inference::NewStub(
          grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials()))
          ->TranslateStream(&context, request);
  heed::v1::TranslateStreamResponse message;
  bool done = false;
  while (reader->Read(&message)) done = done || message.has_done();
  const grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(done);
}

TEST(SlowConsumerTest, AStreamWhoseUnsentOutputExceedsTheBufferStops) {
  ExpectStreamsThatAreNotReadToStop({"--max_stream_buffer_bytes=400"}, true);
}

TEST(SlowConsumerTest, AStreamWhoseClientTakesNothingForTheWriteTimeoutStops) {
  // The timeout is checked when the next message is ready, so it must be
  // shorter than the fixture model's whole generation; a reading client could
  // miss it on a busy machine.
  ExpectStreamsThatAreNotReadToStop({"--stream_write_timeout=5ms"}, false);
}

}  // namespace
}  // namespace heed
