// heed-server as a real process serving the tiny fixture models
// (tests/golden/models) over real gRPC: each task answers, streams carry the
// text, errors get the right codes, deadlines and cancellation work, many
// concurrent clients each get exactly one answer, and /metrics counts them.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "heed/v1/inference.grpc.pb.h"
#include "tests/testing/http_get.h"
#include "tests/testing/server_process.h"

namespace heed {
namespace {

using ::heed::testing::ServerProcess;

class InferenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = ServerProcess::Start(
        HEED_SERVER_BINARY,
        {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR, "--max_queue_size=64"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = new ServerProcess(std::move(*server));
    channel_ =
        grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  std::unique_ptr<heed::v1::Inference::Stub> Stub() {
    return heed::v1::Inference::NewStub(channel_);
  }
  static void SetDeadline(grpc::ClientContext* context, absl::Duration d) {
    context->set_deadline(std::chrono::system_clock::now() +
                          absl::ToChronoNanoseconds(d));
  }

  static ServerProcess* server_;
  static std::shared_ptr<grpc::Channel> channel_;
};

ServerProcess* InferenceTest::server_ = nullptr;
std::shared_ptr<grpc::Channel> InferenceTest::channel_;

TEST_F(InferenceTest, ListsTheFixtureModelsWithDefaults) {
  grpc::ClientContext context;
  heed::v1::ListModelsResponse response;
  ASSERT_TRUE(Stub()->ListModels(&context, {}, &response).ok());
  ASSERT_EQ(response.models_size(), 4);
  int defaults = 0;
  for (const auto& m : response.models()) {
    EXPECT_TRUE(m.ready());
    EXPECT_GT(m.max_input_tokens(), 0);
    defaults += m.is_default();
  }
  EXPECT_EQ(defaults, 3);  // one per task
}

TEST_F(InferenceTest, TranslateAnswersWithTokensAlignmentAndTimings) {
  grpc::ClientContext context;
  heed::v1::TranslateRequest request;
  request.set_text("A dog runs across the green field.");
  request.set_return_alignment(true);
  request.mutable_options()->set_max_output_tokens(6);
  heed::v1::TranslateResponse response;
  grpc::Status status = Stub()->Translate(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.model().name(), "marian-tiny");
  ASSERT_EQ(response.hypotheses_size(), 1);
  EXPECT_EQ(response.text(), response.hypotheses(0).text());
  EXPECT_EQ(response.usage().output_tokens(), 6);
  EXPECT_EQ(response.usage().input_tokens(), 10);
  const auto& alignment = response.hypotheses(0).alignment();
  EXPECT_EQ(alignment.weights_size(),
            alignment.source_tokens_size() * alignment.target_tokens_size());
  EXPECT_TRUE(response.timing().has_total_duration());
}

TEST_F(InferenceTest, SummarizeWithBeamsAndStreams) {
  heed::v1::SummarizeRequest request;
  request.set_text("heed serves transformer models on CPUs over gRPC.");
  request.mutable_options()->set_beam_size(3);
  request.mutable_options()->set_num_return_sequences(2);
  heed::v1::SummarizeResponse unary;
  {
    grpc::ClientContext context;
    grpc::Status status = Stub()->Summarize(&context, request, &unary);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(unary.hypotheses_size(), 2);
  }
  // Greedy stream: deltas add up to the final text.
  request.mutable_options()->clear_beam_size();
  request.mutable_options()->clear_num_return_sequences();
  grpc::ClientContext context;
  auto reader = Stub()->SummarizeStream(&context, request);
  std::string streamed;
  int deltas = 0;
  heed::v1::SummarizeStreamResponse message;
  heed::v1::SummarizeResponse done;
  while (reader->Read(&message)) {
    if (message.has_delta()) {
      streamed += message.delta().text();
      ++deltas;
    } else {
      done = message.done();
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_GT(deltas, 1);
  EXPECT_EQ(streamed, done.text());
}

TEST_F(InferenceTest, ClassifySentimentManyTexts) {
  grpc::ClientContext context;
  heed::v1::ClassifySentimentRequest request;
  request.add_texts("This movie was absolutely wonderful.");
  request.add_texts("A dull, lifeless and tedious film.");
  request.set_return_alignment(true);
  heed::v1::ClassifySentimentResponse response;
  ASSERT_TRUE(Stub()->ClassifySentiment(&context, request, &response).ok());
  ASSERT_EQ(response.results_size(), 2);
  for (const auto& r : response.results()) {
    EXPECT_EQ(r.scores_size(), 2);
    EXPECT_NEAR(r.scores(0).score() + r.scores(1).score(), 1.0f, 1e-5);
    EXPECT_GT(r.attributions_size(), 0);
  }
}

std::string LongReview() {
  std::string text;
  for (int i = 0; i < 30; ++i)
    text += "The acting was wonderful but the plot dragged on. ";
  return text;
}

TEST_F(InferenceTest, LongTextsErrorTruncateOrChunks) {
  auto classify = [&](heed::v1::ClassifySentimentRequest request,
                      heed::v1::ClassifySentimentResponse* response) {
    grpc::ClientContext context;
    return Stub()->ClassifySentiment(&context, request, response);
  };
  heed::v1::ClassifySentimentRequest request;
  request.add_texts(LongReview());
  request.add_texts("A fine film.");
  heed::v1::ClassifySentimentResponse response;
  grpc::Status refused = classify(request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("long_input CHUNKS"), std::string::npos)
      << refused.error_message();

  request.set_truncate_input(true);
  ASSERT_TRUE(classify(request, &response).ok());
  EXPECT_TRUE(response.results(0).input_truncated());
  EXPECT_EQ(response.results(0).windows(), 1);

  request.set_long_input(heed::v1::LONG_INPUT_CHUNKS);  // wins over truncate_input
  request.set_return_alignment(true);
  ASSERT_TRUE(classify(request, &response).ok());
  const heed::v1::SentimentResult& chunked = response.results(0);
  EXPECT_FALSE(chunked.input_truncated());
  EXPECT_GT(chunked.windows(), 1);
  EXPECT_NEAR(chunked.scores(0).score() + chunked.scores(1).score(), 1.0f, 1e-5);
  EXPECT_GT(chunked.attributions_size(), 64);  // the whole text, not one window
  EXPECT_EQ(response.results(1).windows(), 1);
  EXPECT_GT(response.usage().input_tokens(), 64);

  request.set_long_input(heed::v1::LONG_INPUT_ERROR);
  EXPECT_EQ(classify(request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.set_long_input(static_cast<heed::v1::LongInput>(42));
  grpc::Status unknown = classify(request, &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(unknown.error_message().find("long_input"), std::string::npos);
}

TEST_F(InferenceTest, ErrorsCarryTheRightCodes) {
  auto call = [&](heed::v1::TranslateRequest request) {
    grpc::ClientContext context;
    heed::v1::TranslateResponse response;
    return Stub()->Translate(&context, request, &response);
  };
  heed::v1::TranslateRequest r;
  EXPECT_EQ(call(r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);  // empty text
  r.set_text("hello");
  r.set_model("no-such-model");
  EXPECT_EQ(call(r).error_code(), grpc::StatusCode::NOT_FOUND);
  r.set_model("bert-tiny");
  EXPECT_EQ(call(r).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  r.clear_model();
  r.mutable_options()->set_beam_size(17);
  grpc::Status beams = call(r);
  EXPECT_EQ(beams.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(beams.error_message().find("beam_size"), std::string::npos);
  r.clear_options();
  r.mutable_options()->mutable_sampling()->set_temperature(0);
  EXPECT_EQ(call(r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  r.clear_options();
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "word ";
  r.set_text(long_text);
  grpc::Status too_long = call(r);
  EXPECT_EQ(too_long.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(too_long.error_message().find("truncate_input"), std::string::npos);
  r.set_truncate_input(true);
  r.mutable_options()->set_max_output_tokens(3);
  EXPECT_TRUE(call(r).ok());

  grpc::ClientContext context;
  heed::v1::ClassifySentimentRequest sentiment;
  heed::v1::ClassifySentimentResponse response;
  EXPECT_EQ(Stub()->ClassifySentiment(&context, sentiment, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // no texts
}

TEST_F(InferenceTest, DeadlineExceededMidGeneration) {
  grpc::ClientContext context;
  SetDeadline(&context, absl::Milliseconds(1));
  heed::v1::TranslateRequest request;
  request.set_text("A dog runs across the green field.");
  request.mutable_options()->set_beam_size(4);
  heed::v1::TranslateResponse response;
  EXPECT_EQ(Stub()->Translate(&context, request, &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(InferenceTest, ClientCancellationMidStream) {
  grpc::ClientContext context;
  heed::v1::TranslateRequest request;
  request.set_text("A dog runs across the green field.");
  request.mutable_options()->set_max_output_tokens(60);
  auto reader = Stub()->TranslateStream(&context, request);
  heed::v1::TranslateStreamResponse message;
  ASSERT_TRUE(reader->Read(&message));  // generation has started
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The server is fine afterwards.
  grpc::ClientContext next;
  heed::v1::TranslateResponse response;
  request.mutable_options()->set_max_output_tokens(2);
  EXPECT_TRUE(Stub()->Translate(&next, request, &response).ok());
}

TEST_F(InferenceTest, ManyConcurrentClientsEachGetOneAnswer) {
  std::atomic<int> ok{0}, exhausted{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 64; ++c) {
    clients.emplace_back([&, c] {
      auto stub = Stub();
      for (int i = 0; i < 40; ++i) {
        grpc::ClientContext context;
        SetDeadline(&context, absl::Seconds(60));
        grpc::Status status;
        if ((c + i) % 3 == 0) {
          heed::v1::ClassifySentimentRequest r;
          r.add_texts(absl::StrCat("text number ", i));
          heed::v1::ClassifySentimentResponse response;
          status = stub->ClassifySentiment(&context, r, &response);
        } else {
          heed::v1::TranslateRequest r;
          r.set_text(absl::StrCat("sentence ", c, " ", i));
          r.mutable_options()->set_max_output_tokens(4);
          heed::v1::TranslateResponse response;
          status = stub->Translate(&context, r, &response);
        }
        if (status.ok()) {
          ++ok;
        } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          ++exhausted;
        } else {
          ++other;
          ADD_FAILURE() << status.error_code() << " " << status.error_message();
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok + exhausted + other, 64 * 40);
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(ok.load(), 0);
}

TEST_F(InferenceTest, MetricsCountRequestsByModelTaskAndCode) {
  {
    grpc::ClientContext context;
    heed::v1::TranslateRequest r;
    r.set_text("one more");
    r.mutable_options()->set_max_output_tokens(2);
    heed::v1::TranslateResponse response;
    ASSERT_TRUE(Stub()->Translate(&context, r, &response).ok());
  }
  auto metrics = testing::HttpGet(server_->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  const std::string& body = metrics->body;
  EXPECT_NE(
      body.find(
          "heed_requests_total{code=\"OK\",model=\"marian-tiny\",task=\"translation\"}"),
      std::string::npos);
  for (const char* name :
       {"heed_request_duration_seconds_bucket", "heed_queue_duration_seconds",
        "heed_inference_duration_seconds", "heed_batch_size", "heed_queue_depth",
        "heed_inflight_requests", "heed_input_tokens_total", "heed_output_tokens_total",
        "heed_model_loaded"}) {
    EXPECT_NE(body.find(name), std::string::npos) << name;
  }
}

// A queue of one with one computation at a time: a burst gets immediate
// RESOURCE_EXHAUSTED answers for what does not fit, and OK for the rest.
TEST(QueueFullTest, BurstsBeyondTheQueueAreRefusedAtOnce) {
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY, {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR,
                           "--max_queue_size=1", "--max_batch_size=1"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials());
  std::atomic<int> ok{0}, exhausted{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&] {
      auto stub = heed::v1::Inference::NewStub(channel);
      for (int i = 0; i < 5; ++i) {
        grpc::ClientContext context;
        heed::v1::TranslateRequest r;
        r.set_text("a sentence that takes a while");
        r.mutable_options()->set_max_output_tokens(60);
        heed::v1::TranslateResponse response;
        grpc::Status status = stub->Translate(&context, r, &response);
        if (status.ok()) {
          ++ok;
        } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          ++exhausted;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(exhausted.load(), 0);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(InferenceTest, MalformedAndOversizedRequests) {
  // Invalid UTF-8, which protobuf's parser would refuse before heed saw the
  // call: the server parses leniently and answers INVALID_ARGUMENT itself.
  grpc::GenericStub generic(channel_);
  heed::v1::TranslateRequest request;
  request.set_text("ok");
  std::string bytes = request.SerializeAsString();
  bytes.back() = '\xff';  // the last byte of the text
  grpc::ClientContext context;
  grpc::Slice slice(bytes.data(), bytes.size());
  grpc::ByteBuffer buffer(&slice, 1);
  grpc::ByteBuffer reply;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&context, "/heed.v1.Inference/Translate", grpc::StubOptions(),
                    &buffer, &reply, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = s;
                      done = true;
                      cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("UTF-8"), std::string::npos)
      << status.error_message();

  // Over --max_message_bytes (4 MiB by default).
  heed::v1::ClassifySentimentRequest big;
  big.add_texts(std::string(5 << 20, 'a'));
  grpc::ClientContext big_context;
  heed::v1::ClassifySentimentResponse big_response;
  EXPECT_EQ(Stub()->ClassifySentiment(&big_context, big, &big_response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

// --config lists the models to serve with names, compute types and knobs.
TEST(ConfigFileTest, ServesTheListedModelsAsConfigured) {
  const auto dir =
      std::filesystem::temp_directory_path() / absl::StrCat("heed_config_", getpid());
  std::filesystem::create_directories(dir);
  const std::string models = HEED_GOLDEN_MODELS_DIR;
  {
    std::ofstream config(dir / "heed.json");
    config << R"({"models": [
      {"directory": ")"
           << models << R"(/marian-tiny", "name": "en-de", "task": "translation",
       "compute_type": "int8", "max_batch_size": 4, "threads": 1},
      {"directory": ")"
           << models << R"(/distilbert-tiny", "name": "sst2", "default": true,
       "compute_type": "float32", "max_queue_delay_ms": 1, "long_input": "chunks"}]})";
  }
  auto server = ServerProcess::Start(HEED_SERVER_BINARY,
                                     {"--config=" + (dir / "heed.json").string()});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials());
  auto stub = heed::v1::Inference::NewStub(channel);
  grpc::ClientContext context;
  heed::v1::ListModelsResponse response;
  ASSERT_TRUE(stub->ListModels(&context, {}, &response).ok());
  ASSERT_EQ(response.models_size(), 2);
  EXPECT_EQ(response.models(0).name(), "en-de");
  EXPECT_EQ(response.models(0).compute_type(), heed::v1::COMPUTE_TYPE_INT8);
  EXPECT_EQ(response.models(1).name(), "sst2");
  EXPECT_TRUE(response.models(1).is_default());
  grpc::ClientContext translate_context;
  heed::v1::TranslateRequest request;
  request.set_text("A dog.");
  request.set_model("en-de");
  request.mutable_options()->set_max_output_tokens(2);
  heed::v1::TranslateResponse translation;
  EXPECT_TRUE(stub->Translate(&translate_context, request, &translation).ok());
  // The model's default long-input policy applies when a request sets none.
  grpc::ClientContext sentiment_context;
  heed::v1::ClassifySentimentRequest sentiment;
  sentiment.add_texts(LongReview());
  heed::v1::ClassifySentimentResponse sentiment_response;
  ASSERT_TRUE(
      stub->ClassifySentiment(&sentiment_context, sentiment, &sentiment_response).ok());
  EXPECT_GT(sentiment_response.results(0).windows(), 1);

  {
    std::ofstream bad(dir / "bad.json");
    bad << R"({"models": [{"directory": "x", "max_batch_size": "many"}]})";
  }
  EXPECT_FALSE(ServerProcess::Start(HEED_SERVER_BINARY,
                                    {"--config=" + (dir / "bad.json").string()},
                                    absl::Seconds(10))
                   .ok());
  std::filesystem::remove_all(dir);
}

// SIGTERM while clients are busy: in-flight calls finish (or are cancelled
// after the grace period), new ones are refused, nothing hangs, exit 0.
TEST(ShutdownTest, SigtermUnderLoadAnswersEveryCall) {
  auto server = ServerProcess::Start(
      HEED_SERVER_BINARY,
      {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR, "--shutdown_grace=2s"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials());
  std::atomic<int> answered{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      auto stub = heed::v1::Inference::NewStub(channel);
      while (!stop) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        heed::v1::TranslateRequest r;
        r.set_text("a sentence to translate");
        r.mutable_options()->set_max_output_tokens(30);
        heed::v1::TranslateResponse response;
        grpc::Status status = stub->Translate(&context, r, &response);
        ++answered;
        if (!status.ok() && status.error_code() != grpc::StatusCode::UNAVAILABLE &&
            status.error_code() != grpc::StatusCode::CANCELLED) {
          ADD_FAILURE() << status.error_code() << " " << status.error_message();
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  auto code = server->Stop(SIGTERM, absl::Seconds(20));
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << server->output();
  EXPECT_GT(answered.load(), 8);
}

}  // namespace
}  // namespace heed
