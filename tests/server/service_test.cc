// The gRPC front end's pieces without a server: request validation, the
// status mapping and the API's description of a model.
#include <cmath>
#include <limits>

#include "absl/synchronization/notification.h"
#include "core/pipelines/status_details.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/service/request_validation.h"
#include "server/service/response_builders.h"
#include "server/service/side_worker.h"
#include "server/service/status_mapping.h"

namespace heed::server {
namespace {

using ::testing::HasSubstr;

TEST(RequestValidationTest, TextMustBeNonEmptyBoundedUtf8) {
  EXPECT_TRUE(ValidateText("Ein Hund läuft.", "text").ok());
  absl::Status empty = ValidateText("", "texts[2]");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(), "texts[2] must not be empty");
  absl::Status huge = ValidateText(std::string(kMaxTextBytes + 1, 'a'), "text");
  EXPECT_THAT(huge.message(), HasSubstr("the limit is 1048576"));
  absl::Status bytes = ValidateText("caf\xe9", "text");
  EXPECT_EQ(bytes.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bytes.message(), "text is not valid UTF-8");
}

TEST(RequestValidationTest, OptionsOutOfRangeNameTheField) {
  uint64_t seed = 0;
  heed::v1::GenerationOptions options;
  options.set_beam_size(17);
  auto beam = ToGenerationRequest("hi", options, false, false, &seed);
  EXPECT_EQ(beam.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(beam.status().message(), HasSubstr("beam_size"));

  options.Clear();
  options.set_encoder_repetition_penalty(0.0f);
  EXPECT_THAT(ToGenerationRequest("hi", options, false, false, &seed).status().message(),
              HasSubstr("encoder_repetition_penalty"));

  options.Clear();
  options.mutable_sampling()->set_top_p(1.5f);
  EXPECT_THAT(ToGenerationRequest("hi", options, false, false, &seed).status().message(),
              HasSubstr("options.sampling.top_p must be in (0, 1]"));

  options.Clear();
  options.set_beam_size(2);
  options.set_num_return_sequences(3);
  EXPECT_THAT(ToGenerationRequest("hi", options, false, false, &seed).status().message(),
              HasSubstr("cannot exceed options.beam_size (2)"));

  options.Clear();
  options.set_beam_size(2);
  options.mutable_sampling()->set_seed(7);
  EXPECT_THAT(ToGenerationRequest("hi", options, false, false, &seed).status().message(),
              HasSubstr("cannot be combined with beam_size > 1"));
}

TEST(RequestValidationTest, ValidOptionsReachThePipelineRequest) {
  uint64_t seed = 0;
  heed::v1::GenerationOptions options;
  options.set_max_output_tokens(12);
  options.set_beam_size(4);
  options.set_num_return_sequences(2);
  auto request = ToGenerationRequest("A dog.", options, true, true, &seed);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->text, "A dog.");
  EXPECT_EQ(request->max_output_tokens, 12);
  EXPECT_EQ(request->num_beams, 4);
  EXPECT_EQ(request->num_return_sequences, 2);
  EXPECT_TRUE(request->truncate_input);
  EXPECT_TRUE(request->return_alignment);

  options.Clear();
  options.mutable_sampling()->set_seed(42);
  auto sampled = ToGenerationRequest("A dog.", options, false, false, &seed);
  ASSERT_TRUE(sampled.ok());
  EXPECT_EQ(seed, 42u);
  EXPECT_EQ(sampled->sampling->seed, 42u);
}

TEST(RequestValidationTest, PriorityRanks) {
  EXPECT_LT(PriorityRank(heed::v1::PRIORITY_LOW),
            PriorityRank(heed::v1::PRIORITY_NORMAL));
  EXPECT_LT(PriorityRank(heed::v1::PRIORITY_NORMAL),
            PriorityRank(heed::v1::PRIORITY_HIGH));
  EXPECT_EQ(PriorityRank(heed::v1::PRIORITY_UNSPECIFIED),
            PriorityRank(heed::v1::PRIORITY_NORMAL));
}

template <typename Detail>
bool Unpack(const google::rpc::Status& rich, Detail* detail) {
  for (const google::protobuf::Any& any : rich.details()) {
    if (any.Is<Detail>()) return any.UnpackTo(detail);
  }
  return false;
}

TEST(StatusMappingTest, EveryErrorCarriesARichStatus) {
  // A field at fault: ErrorInfo with the attached reason, and BadRequest.
  absl::Status bad = pipelines::WithMetadata(
      pipelines::InvalidField("OPTION_OUT_OF_RANGE", "options.beam_size", "too many"),
      "limit", "16");
  grpc::Status status = ToGrpcStatus(bad);
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(status.error_details()));
  EXPECT_EQ(rich.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(rich.message(), "too many");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(Unpack(rich, &info));
  EXPECT_EQ(info.reason(), "OPTION_OUT_OF_RANGE");
  EXPECT_EQ(info.domain(), "heed");
  EXPECT_EQ(info.metadata().at("limit"), "16");
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(Unpack(rich, &bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "options.beam_size");
  google::rpc::RetryInfo retry;
  EXPECT_FALSE(Unpack(rich, &retry));

  // No reason attached: the code's name. UNAVAILABLE always says when to retry.
  rich = RichStatusOf(absl::UnavailableError("later"));
  ASSERT_TRUE(Unpack(rich, &info));
  EXPECT_EQ(info.reason(), "UNAVAILABLE");
  ASSERT_TRUE(Unpack(rich, &retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
  EXPECT_FALSE(Unpack(rich, &bad_request));

  // A measured delay wins over the default.
  rich = RichStatusOf(pipelines::WithRetryDelay(
      pipelines::WithReason(absl::ResourceExhaustedError("full"), "QUEUE_FULL"),
      absl::Milliseconds(1500)));
  ASSERT_TRUE(Unpack(rich, &retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
  EXPECT_EQ(retry.retry_delay().nanos(), 500'000'000);
  EXPECT_EQ(RetryDelayOf(absl::InternalError("bug")), std::nullopt);
}

TEST(SideWorkerTest, RunsJobsInOrderAndRefusesBeyondItsQueue) {
  absl::Notification release;
  std::vector<int> ran;
  absl::Mutex mu;
  {
    SideWorker worker(2);
    // The first job holds the thread; two more wait; a fourth is refused.
    ASSERT_TRUE(worker.TrySubmit([&] { release.WaitForNotification(); }));
    absl::SleepFor(absl::Milliseconds(50));  // the thread has taken it
    for (int i = 0; i < 2; ++i) {
      EXPECT_TRUE(worker.TrySubmit([&, i] {
        absl::MutexLock lock(&mu);
        ran.push_back(i);
      }));
    }
    EXPECT_FALSE(worker.TrySubmit([] {}));
    release.Notify();
  }  // the destructor runs what is queued
  EXPECT_EQ(ran, (std::vector<int>{0, 1}));
}

TEST(StatusMappingTest, CanonicalCodesMapOneToOne) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  for (absl::StatusCode code :
       {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
        absl::StatusCode::kResourceExhausted, absl::StatusCode::kDeadlineExceeded,
        absl::StatusCode::kCancelled, absl::StatusCode::kUnavailable,
        absl::StatusCode::kFailedPrecondition, absl::StatusCode::kUnauthenticated,
        absl::StatusCode::kInternal}) {
    grpc::Status status = ToGrpcStatus(absl::Status(code, "why"));
    EXPECT_EQ(static_cast<int>(status.error_code()), static_cast<int>(code));
    EXPECT_EQ(status.error_message(), "why");
  }
}

TEST(ResponseBuildersTest, ModelInfoBecomesTheApisModel) {
  ModelInfo info;
  info.name = "sst2";
  info.task = pipelines::Task::kSentiment;
  info.architecture = "DistilBertForSequenceClassification";
  info.version = "2026-11-24";
  info.compute = {ops::ComputeType::kBFloat16, ops::ComputeType::kFloat32, false,
                  "float32 (bfloat16 needs AVX512_BF16)"};
  info.isa = "avx512";
  info.max_input_tokens = 512;
  info.labels = {"NEGATIVE", "POSITIVE"};
  info.is_default = true;
  heed::v1::Model model;
  FillModel(info, &model);
  EXPECT_EQ(model.name(), "sst2");
  EXPECT_EQ(model.task(), heed::v1::TASK_SENTIMENT);
  EXPECT_EQ(model.compute_type(), heed::v1::COMPUTE_TYPE_FLOAT32);
  EXPECT_EQ(model.requested_compute_type(), heed::v1::COMPUTE_TYPE_BFLOAT16);
  EXPECT_FALSE(model.compute_type_native());
  EXPECT_EQ(model.isa(), "avx512");
  EXPECT_EQ(model.max_input_tokens(), 512);
  EXPECT_THAT(model.labels(), ::testing::ElementsAre("NEGATIVE", "POSITIVE"));
  EXPECT_TRUE(model.is_default());
  EXPECT_TRUE(model.ready());
}

TEST(ResponseBuildersTest, TasksRoundTrip) {
  for (pipelines::Task task : kAllTasks) EXPECT_EQ(FromApiTask(ToApiTask(task)), task);
  EXPECT_EQ(FromApiTask(heed::v1::TASK_UNSPECIFIED), std::nullopt);
}

TEST(RequestValidationTest, NanInfAndTinyFloatsAreRefused) {
  uint64_t seed = 0;
  heed::v1::GenerationOptions options;
  options.set_length_penalty(std::nanf(""));
  EXPECT_THAT(ToGenerationRequest("hi", options, false, false, &seed).status().message(),
              HasSubstr("options.length_penalty must be between"));
  options.set_length_penalty(std::numeric_limits<float>::infinity());
  EXPECT_FALSE(ToGenerationRequest("hi", options, false, false, &seed).ok());
  options.Clear();
  options.mutable_sampling()->set_temperature(1e-45f);  // turned the logits into inf
  EXPECT_THAT(ToGenerationRequest("hi", options, false, false, &seed).status().message(),
              HasSubstr("options.sampling.temperature must be between"));
  options.mutable_sampling()->set_temperature(std::nanf(""));
  EXPECT_FALSE(ToGenerationRequest("hi", options, false, false, &seed).ok());
  options.mutable_sampling()->set_temperature(0.5f);
  options.mutable_sampling()->set_top_p(std::nanf(""));
  EXPECT_FALSE(ToGenerationRequest("hi", options, false, false, &seed).ok());
}

TEST(ModelNamesTest, QuotedNamesAreCutShort) {
  EXPECT_EQ(QuoteName("opus-mt-en-de"), "\"opus-mt-en-de\"");
  const std::string huge(1 << 20, 'x');
  const std::string quoted = QuoteName(huge);
  EXPECT_LT(quoted.size(), 100u);
  EXPECT_THAT(quoted, HasSubstr("...\" (1048576 bytes)"));
  // Never cut inside a UTF-8 character: 'ä' is two bytes.
  // One ASCII letter first, so that byte 64 falls inside a character.
  std::string name = "a";
  for (int i = 0; i < 40; ++i) name += "\xc3\xa4";
  const std::string cut = QuoteName(name);
  const size_t dots = cut.find("...");
  ASSERT_NE(dots, std::string::npos);
  EXPECT_EQ(dots, 1u + 63u) << cut;  // the quote, "a" and 31 whole characters
}
}  // namespace
}  // namespace heed::server
