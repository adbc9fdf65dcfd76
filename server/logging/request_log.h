// The optional per-request log line (--request_log=off|text|json): one line per
// finished call with its model, task, status, token counts, where its time
// went, the caller's address and the W3C trace id it came with. Values that a
// caller chose (the trace id is checked, the model is a loaded model's name or
// "unknown") never reach the line unescaped.
#ifndef HEED_SERVER_LOGGING_REQUEST_LOG_H_
#define HEED_SERVER_LOGGING_REQUEST_LOG_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace spdlog {
class logger;
}

namespace heed::server {

enum class RequestLogFormat { kOff, kText, kJson };

absl::StatusOr<RequestLogFormat> ParseRequestLogFormat(absl::string_view name);

struct RequestLogRecord {
  std::string method;  // e.g. "Translate"
  std::string model;   // a loaded model's name, or "unknown"
  std::string task;
  absl::StatusCode code = absl::StatusCode::kOk;
  int input_tokens = 0;
  int output_tokens = 0;
  double queue_ms = 0;    // arrival to the first batch
  double compute_ms = 0;  // first batch to the end
  double total_ms = 0;
  std::string peer;      // gRPC's peer string, e.g. "ipv4:127.0.0.1:5312"
  std::string trace_id;  // 32 hex digits, or empty
};

// The line without timestamp for kText ("request method=Translate ..."), a
// JSON object with a "time" field for kJson; empty for kOff.
std::string FormatRequestLog(const RequestLogRecord& record, RequestLogFormat format);

// Writes formatted records to stdout, beside the server log. Thread-safe.
class RequestLog {
 public:
  explicit RequestLog(RequestLogFormat format);
  ~RequestLog();

  bool enabled() const { return format_ != RequestLogFormat::kOff; }
  void Write(const RequestLogRecord& record) const;

 private:
  RequestLogFormat format_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace heed::server

#endif  // HEED_SERVER_LOGGING_REQUEST_LOG_H_
