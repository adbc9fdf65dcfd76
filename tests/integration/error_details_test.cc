// Every error heed-server returns carries google.rpc details a program can act
// on: ErrorInfo with a stable reason, BadRequest naming the field at fault, and
// RetryInfo (plus grpc-retry-pushback-ms) on RESOURCE_EXHAUSTED; the C++
// client reads them and retries after the delay. Real server, real gRPC.
#include <atomic>
#include <chrono>
#include <future>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/lib/heed_client.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "heed/v1/inference.grpc.pb.h"
#include "tests/testing/http_get.h"
#include "tests/testing/server_process.h"

namespace heed {
namespace {

using ::heed::testing::ServerProcess;

class ErrorDetailsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = ServerProcess::Start(
        HEED_SERVER_BINARY, {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = new ServerProcess(std::move(*server));
    channel_ =
        grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static absl::Status Translate(const heed::v1::TranslateRequest& request) {
    grpc::ClientContext context;
    heed::v1::TranslateResponse response;
    return client::FromGrpcStatus(
        heed::v1::Inference::NewStub(channel_)->Translate(&context, request, &response));
  }
  static absl::Status Classify(const heed::v1::ClassifySentimentRequest& request) {
    grpc::ClientContext context;
    heed::v1::ClassifySentimentResponse response;
    return client::FromGrpcStatus(
        heed::v1::Inference::NewStub(channel_)->ClassifySentiment(&context, request,
                                                                  &response));
  }
  // The reason, and the one field at fault or "".
  static std::pair<std::string, std::string> ReasonAndField(const absl::Status& status) {
    const client::ErrorDetails details = client::DetailsOf(status);
    EXPECT_LE(details.field_violations.size(), 1u);
    return {details.reason,
            details.field_violations.empty() ? "" : details.field_violations[0].first};
  }

  static ServerProcess* server_;
  static std::shared_ptr<grpc::Channel> channel_;
};

ServerProcess* ErrorDetailsTest::server_ = nullptr;
std::shared_ptr<grpc::Channel> ErrorDetailsTest::channel_;

using Expected = std::pair<std::string, std::string>;

TEST_F(ErrorDetailsTest, InvalidRequestsNameTheReasonAndTheField) {
  heed::v1::TranslateRequest r;
  EXPECT_EQ(ReasonAndField(Translate(r)), Expected("EMPTY_INPUT", "text"));
  r.set_text("hello");
  r.mutable_options()->set_beam_size(17);
  EXPECT_EQ(ReasonAndField(Translate(r)),
            Expected("OPTION_OUT_OF_RANGE", "options.beam_size"));
  r.mutable_options()->set_beam_size(2);
  r.mutable_options()->set_num_return_sequences(3);
  EXPECT_EQ(ReasonAndField(Translate(r)),
            Expected("OPTIONS_CONFLICT", "options.num_return_sequences"));
  r.clear_options();
  r.mutable_options()->set_max_output_tokens(100000);
  EXPECT_EQ(ReasonAndField(Translate(r)),
            Expected("OPTION_OUT_OF_RANGE", "options.max_output_tokens"));
  r.clear_options();
  r.set_model("no-such-model");
  EXPECT_EQ(ReasonAndField(Translate(r)), Expected("MODEL_NOT_FOUND", "model"));
  r.set_model("bert-tiny");
  EXPECT_EQ(ReasonAndField(Translate(r)), Expected("WRONG_TASK", "model"));
  r.clear_model();
  r.set_text("caf\xe9");
  EXPECT_EQ(ReasonAndField(Translate(r)), Expected("INVALID_UTF8", "text"));

  // Found on the compute side, after tokenization.
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "word ";
  r.set_text(long_text);
  const absl::Status too_long = Translate(r);
  EXPECT_EQ(ReasonAndField(too_long), Expected("INPUT_TOO_LONG", "text"));
  const client::ErrorDetails details = client::DetailsOf(too_long);
  ASSERT_TRUE(details.metadata.contains("limit"));
  ASSERT_TRUE(details.metadata.contains("tokens"));
  int limit = 0, tokens = 0;
  ASSERT_TRUE(absl::SimpleAtoi(details.metadata.at("limit"), &limit));
  ASSERT_TRUE(absl::SimpleAtoi(details.metadata.at("tokens"), &tokens));
  EXPECT_GT(tokens, limit);
  EXPECT_FALSE(details.retry_delay.has_value());

  heed::v1::ClassifySentimentRequest s;
  EXPECT_EQ(ReasonAndField(Classify(s)), Expected("EMPTY_INPUT", "texts"));
  s.add_texts("fine");
  s.add_texts(long_text);
  EXPECT_EQ(ReasonAndField(Classify(s)), Expected("INPUT_TOO_LONG", "texts[1]"));
  s.set_texts(1, "");
  EXPECT_EQ(ReasonAndField(Classify(s)), Expected("EMPTY_INPUT", "texts[1]"));
  s.clear_texts();
  for (int i = 0; i < 257; ++i) s.add_texts("x");
  EXPECT_EQ(ReasonAndField(Classify(s)), Expected("TOO_MANY_TEXTS", "texts"));
}

TEST_F(ErrorDetailsTest, MalformedBytesAreMalformedRequest) {
  grpc::GenericStub generic(channel_);
  const std::string bytes = "\x0a\x10short";  // a text field longer than the bytes
  grpc::Slice slice(bytes.data(), bytes.size());
  grpc::ByteBuffer request(&slice, 1), reply;
  grpc::ClientContext context;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/heed.v1.Inference/Summarize", grpc::StubOptions(),
                    &request, &reply, [&](grpc::Status s) { done.set_value(s); });
  const absl::Status status = client::FromGrpcStatus(done.get_future().get());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client::DetailsOf(status).reason, "MALFORMED_REQUEST");
}

TEST_F(ErrorDetailsTest, TheCliPrintsTheDetails) {
  const client::ErrorDetails none = client::DetailsOf(absl::InternalError("x"));
  EXPECT_TRUE(none.reason.empty());
  heed::v1::TranslateRequest r;
  r.set_text("hello");
  r.mutable_options()->set_beam_size(0);
  const std::string text = client::DescribeError(Translate(r));
  EXPECT_TRUE(absl::StartsWith(text, "INVALID_ARGUMENT: options.beam_size")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\n  reason: OPTION_OUT_OF_RANGE")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\n  field: options.beam_size")) << text;
}

int64_t CountedExhausted(const ServerProcess& server) {
  auto page = testing::HttpGet(server.metrics_port(), "/metrics");
  if (!page.ok()) return -1;
  int64_t total = 0;
  std::istringstream lines(page->body);
  for (std::string line; std::getline(lines, line);) {
    if (!absl::StartsWith(line, "heed_requests_total{") ||
        !absl::StrContains(line, "code=\"RESOURCE_EXHAUSTED\"")) {
      continue;
    }
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) total += value;
  }
  return total;
}

// One request at a time and a queue of one: a burst overflows it.
absl::StatusOr<ServerProcess> StartTinyQueueServer() {
  return ServerProcess::Start(HEED_SERVER_BINARY,
                              {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR,
                               "--max_queue_size=1", "--max_batch_size=1"});
}

heed::v1::TranslateRequest SlowRequest() {
  heed::v1::TranslateRequest r;
  r.set_text("a sentence that takes a while");
  r.mutable_options()->set_max_output_tokens(60);
  return r;
}

TEST(RetryInfoTest, AFullQueueSaysWhenToRetryInDetailsAndTrailer) {
  auto server = StartTinyQueueServer();
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials());
  std::atomic<int> exhausted{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 12; ++c) {
    clients.emplace_back([&] {
      auto stub = heed::v1::Inference::NewStub(channel);
      for (int i = 0; i < 4; ++i) {
        grpc::ClientContext context;
        heed::v1::TranslateResponse response;
        const grpc::Status raw = stub->Translate(&context, SlowRequest(), &response);
        if (raw.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) continue;
        ++exhausted;
        const client::ErrorDetails details =
            client::DetailsOf(client::FromGrpcStatus(raw));
        const auto& trailer = context.GetServerTrailingMetadata();
        auto pushback = trailer.find("grpc-retry-pushback-ms");
        int64_t pushback_ms = -1;
        const bool consistent =
            details.reason == "QUEUE_FULL" && details.retry_delay.has_value() &&
            *details.retry_delay > absl::ZeroDuration() && pushback != trailer.end() &&
            absl::SimpleAtoi(
                std::string(pushback->second.data(), pushback->second.size()),
                &pushback_ms) &&
            pushback_ms == absl::ToInt64Milliseconds(*details.retry_delay);
        if (!consistent) ++wrong;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_GT(exhausted.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

TEST(RetryInfoTest, TheClientRetriesAfterTheDelay) {
  auto server = StartTinyQueueServer();
  ASSERT_TRUE(server.ok()) << server.status();
  client::ClientOptions options;
  options.address = server->grpc_address();
  options.max_attempts = 5;
  client::HeedClient heed_client(options);
  std::atomic<int> ok{0}, exhausted{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 12; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 4; ++i) {
        auto response = heed_client.Translate(SlowRequest());
        if (response.ok()) {
          ++ok;
        } else if (response.status().code() == absl::StatusCode::kResourceExhausted) {
          ++exhausted;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(other.load(), 0);
  // Every refusal the client saw was its fifth; the server refused more
  // attempts than that, so the client retried.
  const int64_t refused_attempts = CountedExhausted(*server);
  EXPECT_GT(refused_attempts, exhausted.load());
  EXPECT_GE(refused_attempts, 5 * exhausted.load());
  EXPECT_GT(ok.load(), 0);
}

}  // namespace
}  // namespace heed
