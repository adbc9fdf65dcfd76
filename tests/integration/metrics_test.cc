// /metrics of a real heed-server stays bounded and honest under what callers
// can send: label values come only from loaded models, rejections do not
// flatter the latency histograms, and the documented series exist.
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "heed/v1/inference.grpc.pb.h"
#include "tests/testing/http_get.h"
#include "tests/testing/server_process.h"

namespace heed {
namespace {

using ::testing::HasSubstr;

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::ServerProcess::Start(
        HEED_SERVER_BINARY,
        {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR, "--max_queue_size=64"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(std::move(*server));
    stub_ = heed::v1::Inference::NewStub(
        grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials()));
  }

  std::string Scrape() {
    auto response = testing::HttpGet(server_->metrics_port(), "/metrics");
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->body : "";
  }

  // The series on the page: "name{labels}" of every sample line.
  static std::set<std::string> Series(const std::string& page) {
    std::set<std::string> series;
    for (absl::string_view line : absl::StrSplit(page, '\n', absl::SkipEmpty())) {
      if (line[0] == '#') continue;
      series.insert(std::string(line.substr(0, line.rfind(' '))));
    }
    return series;
  }

  // The value of one sample line "name{labels} value"; -1 when absent.
  static double Sample(const std::string& page, const std::string& series) {
    const size_t at = page.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(page.substr(at + series.size() + 2));
  }

  grpc::StatusCode Classify(const std::string& model, const std::string& text) {
    grpc::ClientContext context;
    heed::v1::ClassifySentimentRequest request;
    request.set_model(model);
    if (!text.empty()) request.add_texts(text);
    heed::v1::ClassifySentimentResponse response;
    return stub_->ClassifySentiment(&context, request, &response).error_code();
  }

  std::optional<testing::ServerProcess> server_;
  std::unique_ptr<heed::v1::Inference::Stub> stub_;
};

TEST_F(MetricsTest, UnknownModelNamesAddNoSeries) {
  // One unknown name first, so that the "unknown" series exist.
  ASSERT_EQ(Classify("warm-up-unknown", "fine"), grpc::StatusCode::NOT_FOUND);
  const std::string before = Scrape();
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(Classify(absl::StrCat("no-such-model-", i), "fine"),
              grpc::StatusCode::NOT_FOUND);
  }
  // Bytes that are not UTF-8 must not reach the page either.
  ASSERT_EQ(Classify("\xff\xfe\xfd", "fine"), grpc::StatusCode::NOT_FOUND);
  const std::string after = Scrape();
  EXPECT_EQ(Series(after), Series(before));
  EXPECT_LT(after.size(), before.size() + 1024);
  for (unsigned char c : after) ASSERT_LT(c, 0x80) << "the page is ASCII";
  EXPECT_EQ(Sample(after,
                   "heed_requests_total{code=\"NOT_FOUND\",model=\"unknown\","
                   "task=\"sentiment\"}"),
            3002);
}

TEST_F(MetricsTest, RejectionsAreCountedButNotTimed) {
  ASSERT_EQ(Classify("", "A good film."), grpc::StatusCode::OK);
  const std::string before = Scrape();
  const std::string count =
      "heed_request_duration_seconds_count{model=\"bert-tiny\",task=\"sentiment\"}";
  EXPECT_EQ(Sample(before, count), 1);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(Classify("bert-tiny", ""), grpc::StatusCode::INVALID_ARGUMENT);
  }
  const std::string after = Scrape();
  EXPECT_EQ(Sample(after, count), 1);
  EXPECT_EQ(Sample(after,
                   "heed_requests_total{code=\"INVALID_ARGUMENT\","
                   "model=\"bert-tiny\",task=\"sentiment\"}"),
            20);
}

TEST_F(MetricsTest, DocumentedSeriesAreExported) {
  {
    grpc::ClientContext context;
    heed::v1::TranslateRequest request;
    request.set_text("A man is walking.");
    heed::v1::TranslateResponse response;
    ASSERT_TRUE(stub_->Translate(&context, request, &response).ok());
  }
  ASSERT_EQ(Classify("", "A good film."), grpc::StatusCode::OK);
  const std::string page = Scrape();
  // The encoder pass is its own phase.
  EXPECT_GE(Sample(page,
                   "heed_inference_duration_seconds_count{model=\"marian-tiny\","
                   "phase=\"encode\"}"),
            1);
  EXPECT_GE(Sample(page,
                   "heed_inference_duration_seconds_count{model=\"marian-tiny\","
                   "phase=\"decode\"}"),
            1);
  EXPECT_EQ(Sample(page, "heed_queue_capacity{model=\"marian-tiny\"}"), 64);
  EXPECT_EQ(Sample(page, "heed_request_input_tokens_count{model=\"marian-tiny\"}"), 1);
  EXPECT_EQ(Sample(page, "heed_request_output_tokens_count{model=\"marian-tiny\"}"), 1);
  EXPECT_EQ(
      Sample(page, "heed_time_per_output_token_seconds_count{model=\"marian-tiny\"}"), 1);
  EXPECT_GE(Sample(page, "heed_compute_threads"), 1);
  // SLO thresholds are bucket bounds; queue and step times resolve 100 us.
  for (const char* le : {"0.2", "0.3", "0.75", "2", "3", "30"}) {
    EXPECT_THAT(page, HasSubstr(absl::StrCat(
                          "heed_request_duration_seconds_bucket{model=\"bert-tiny\","
                          "task=\"sentiment\",le=\"",
                          le, "\"}")));
  }
  EXPECT_THAT(page, HasSubstr("heed_queue_duration_seconds_bucket{model=\"bert-tiny\","
                              "le=\"0.0001\"}"));
}

}  // namespace
}  // namespace heed
