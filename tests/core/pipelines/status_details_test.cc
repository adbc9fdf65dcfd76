// The details a status carries survive the layers that add to its message.
#include "core/pipelines/status_details.h"

#include "gtest/gtest.h"

namespace heed::pipelines {
namespace {

TEST(StatusDetailsTest, DetailsRideAlongAndSurviveRewording) {
  absl::Status status = InvalidField("INPUT_TOO_LONG", "text", "the input is long");
  status = WithMetadata(std::move(status), "limit", "512");
  status = Prefixed(status, "texts[3]: ");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "texts[3]: the input is long");
  StatusDetails details = DetailsOf(status);
  EXPECT_EQ(details.reason, "INPUT_TOO_LONG");
  EXPECT_EQ(details.field, "text");
  EXPECT_EQ(details.metadata.at("limit"), "512");
  EXPECT_FALSE(details.retry_delay.has_value());

  details = DetailsOf(WithField(status, "texts[3]"));  // the later one wins
  EXPECT_EQ(details.field, "texts[3]");
  details = DetailsOf(Reworded(status, "other words"));
  EXPECT_EQ(details.reason, "INPUT_TOO_LONG");
}

TEST(StatusDetailsTest, RetryDelayAndOkStatuses) {
  absl::Status busy =
      WithRetryDelay(absl::ResourceExhaustedError("full"), absl::Milliseconds(250));
  EXPECT_EQ(DetailsOf(busy).retry_delay, absl::Milliseconds(250));
  // A negative estimate means "now".
  busy = WithRetryDelay(busy, -absl::Seconds(1));
  EXPECT_EQ(DetailsOf(busy).retry_delay, absl::ZeroDuration());
  // OK carries nothing.
  const absl::Status ok = WithReason(absl::OkStatus(), "QUEUE_FULL");
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(DetailsOf(ok).reason.empty());
}

}  // namespace
}  // namespace heed::pipelines
