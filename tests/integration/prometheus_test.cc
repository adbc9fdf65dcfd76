// A real Prometheus (Debian's package) started on loopback scrapes heed-server;
// its HTTP API must then answer for heed_requests_total and a latency histogram.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "heed/v1/inference.grpc.pb.h"
#include "tests/testing/http_get.h"
#include "tests/testing/server_process.h"
#include "tests/testing/subprocess.h"

namespace heed {
namespace {

TEST(PrometheusTest, ScrapesHeedAndAnswersQueries) {
  if (!std::filesystem::exists("/usr/bin/prometheus")) {
    // scripts/install-deps.sh installs it; CI must not skip.
    ASSERT_EQ(std::getenv("CI"), nullptr) << "prometheus is missing";
    GTEST_SKIP()
        << "Debian's prometheus is not installed (scripts/install-deps.sh installs it)";
  }
  auto server = testing::ServerProcess::Start(
      HEED_SERVER_BINARY, {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials());
  auto stub = heed::v1::Inference::NewStub(channel);
  for (int i = 0; i < 5; ++i) {
    grpc::ClientContext context;
    heed::v1::ClassifySentimentRequest request;
    request.add_texts("What a wonderful film.");
    heed::v1::ClassifySentimentResponse response;
    ASSERT_TRUE(stub->ClassifySentiment(&context, request, &response).ok());
  }

  const auto dir =
      std::filesystem::temp_directory_path() / absl::StrCat("heed_prometheus_", getpid());
  std::filesystem::create_directories(dir);
  {
    std::ofstream config(dir / "prometheus.yml");
    config << "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: heed\n"
           << "    static_configs:\n      - targets: ['127.0.0.1:"
           << server->metrics_port() << "']\n";
  }
  const int port = testing::FreePort();
  auto prometheus = testing::Subprocess::Start(
      {"/usr/bin/prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (dir / "data").string(),
       absl::StrCat("--web.listen-address=127.0.0.1:", port)},
      (dir / "prometheus.log").string());
  ASSERT_TRUE(prometheus.ok());

  auto query = [&](const std::string& promql) -> std::string {
    auto response = testing::HttpGet(port, "/api/v1/query?query=" + promql);
    return response.ok() ? response->body : "";
  };
  std::string requests, histogram;
  for (int attempt = 0; attempt < 60; ++attempt) {
    requests = query("heed_requests_total%7Btask%3D%22sentiment%22%7D");
    histogram = query("heed_request_duration_seconds_bucket%7Btask%3D%22sentiment%22%7D");
    if (requests.find("\"result\":[{") != std::string::npos &&
        histogram.find("\"result\":[{") != std::string::npos) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_NE(requests.find("\"code\":\"OK\""), std::string::npos) << requests;
  EXPECT_NE(requests.find("\"model\":\"bert-tiny\""), std::string::npos) << requests;
  EXPECT_NE(histogram.find("\"le\":\"0.001\""), std::string::npos) << histogram;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace heed
