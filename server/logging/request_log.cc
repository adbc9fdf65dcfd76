#include "server/logging/request_log.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace heed::server {
namespace {

// Text values are bare when they are plain words and JSON-quoted otherwise,
// so that a line always splits back into its fields.
std::string TextValue(const std::string& value) {
  bool plain = !value.empty();
  for (char c : value) {
    plain &= absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
             c == '.' || c == ':' || c == '/';
  }
  if (plain) return value;
  return nlohmann::json(value).dump(-1, ' ', true,
                                    nlohmann::json::error_handler_t::replace);
}

}  // namespace

absl::StatusOr<RequestLogFormat> ParseRequestLogFormat(absl::string_view name) {
  if (name == "off") return RequestLogFormat::kOff;
  if (name == "text") return RequestLogFormat::kText;
  if (name == "json") return RequestLogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown request log format \"", name, "\"; use off, text or json"));
}

std::string FormatRequestLog(const RequestLogRecord& r, RequestLogFormat format) {
  const std::string code(absl::StatusCodeToString(r.code));
  switch (format) {
    case RequestLogFormat::kOff:
      return "";
    case RequestLogFormat::kText:
      return absl::StrFormat(
          "request method=%s model=%s task=%s code=%s input_tokens=%d output_tokens=%d "
          "queue_ms=%.3f compute_ms=%.3f total_ms=%.3f peer=%s trace_id=%s",
          TextValue(r.method), TextValue(r.model), TextValue(r.task), code,
          r.input_tokens, r.output_tokens, r.queue_ms, r.compute_ms, r.total_ms,
          TextValue(r.peer), r.trace_id.empty() ? "-" : TextValue(r.trace_id));
    case RequestLogFormat::kJson: {
      nlohmann::ordered_json line = {
          {"time",
           absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone())},
          {"method", r.method},
          {"model", r.model},
          {"task", r.task},
          {"code", code},
          {"input_tokens", r.input_tokens},
          {"output_tokens", r.output_tokens},
          {"queue_ms", r.queue_ms},
          {"compute_ms", r.compute_ms},
          {"total_ms", r.total_ms},
          {"peer", r.peer},
      };
      if (!r.trace_id.empty()) line["trace_id"] = r.trace_id;
      return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  return "";
}

RequestLog::RequestLog(RequestLogFormat format) : format_(format) {
  if (format_ == RequestLogFormat::kOff) return;
  // Its own logger: JSON lines carry their own time and no prefix, so that
  // log collectors can parse each line as one object.
  logger_ = std::make_shared<spdlog::logger>(
      "heed.requests", std::make_shared<spdlog::sinks::stdout_sink_mt>());
  if (format_ == RequestLogFormat::kJson) {
    logger_->set_pattern("%v");
  } else {
    logger_->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger_->flush_on(spdlog::level::trace);
}

RequestLog::~RequestLog() = default;

void RequestLog::Write(const RequestLogRecord& record) const {
  if (logger_ == nullptr) return;
  logger_->info(FormatRequestLog(record, format_));
}

}  // namespace heed::server
