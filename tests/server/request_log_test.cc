// The request log's line formats and the W3C traceparent parser.
#include "server/logging/request_log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/service/trace_context.h"

namespace heed::server {
namespace {

RequestLogRecord Record() {
  RequestLogRecord r;
  r.method = "Translate";
  r.model = "opus-mt-en-de";
  r.task = "translation";
  r.code = absl::StatusCode::kDeadlineExceeded;
  r.input_tokens = 12;
  r.output_tokens = 9;
  r.queue_ms = 1.5;
  r.compute_ms = 20.25;
  r.total_ms = 21.75;
  r.peer = "ipv4:127.0.0.1:5312";
  r.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  return r;
}

TEST(RequestLogTest, TextLineHasEveryField) {
  EXPECT_EQ(FormatRequestLog(Record(), RequestLogFormat::kText),
            "request method=Translate model=opus-mt-en-de task=translation "
            "code=DEADLINE_EXCEEDED input_tokens=12 output_tokens=9 queue_ms=1.500 "
            "compute_ms=20.250 total_ms=21.750 peer=ipv4:127.0.0.1:5312 "
            "trace_id=4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(RequestLogTest, TextValuesWithSpacesOrControlBytesAreQuoted) {
  RequestLogRecord r = Record();
  r.peer = "ipv6:[::1]:80 extra=\"x\"\nforged line";
  r.trace_id.clear();
  const std::string line = FormatRequestLog(r, RequestLogFormat::kText);
  EXPECT_THAT(line, ::testing::HasSubstr(
                        R"(peer="ipv6:[::1]:80 extra=\"x\"\nforged line" trace_id=-)"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(RequestLogTest, JsonLineParsesBackAndSurvivesInvalidUtf8) {
  RequestLogRecord r = Record();
  r.peer = "ipv4:\xff\xfe";
  const std::string line = FormatRequestLog(r, RequestLogFormat::kJson);
  const nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["method"], "Translate");
  EXPECT_EQ(parsed["code"], "DEADLINE_EXCEEDED");
  EXPECT_EQ(parsed["output_tokens"], 9);
  EXPECT_EQ(parsed["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(parsed.contains("time"));
  EXPECT_EQ(FormatRequestLog(r, RequestLogFormat::kOff), "");
}

TEST(RequestLogTest, FormatNames) {
  EXPECT_EQ(*ParseRequestLogFormat("json"), RequestLogFormat::kJson);
  EXPECT_EQ(*ParseRequestLogFormat("off"), RequestLogFormat::kOff);
  EXPECT_FALSE(ParseRequestLogFormat("yaml").ok());
}

TEST(TraceContextTest, ValidTraceparentGivesTheTraceId) {
  EXPECT_EQ(
      TraceIdFromTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
      "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(TraceContextTest, InvalidTraceparentsAreIgnored) {
  for (const char* bad :
       {"", "garbage", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"}) {
    EXPECT_EQ(TraceIdFromTraceparent(bad), "") << bad;
  }
}

}  // namespace
}  // namespace heed::server
