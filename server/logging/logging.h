// heed-server's log: one line per event on stdout (container runtimes collect
// it), each with a UTC timestamp and a level, flushed per line so that a
// crash or a pipe reader never misses the last lines. Code logs through
// spdlog's default logger (spdlog::info and friends) once InitLogging ran.
#ifndef HEED_SERVER_LOGGING_LOGGING_H_
#define HEED_SERVER_LOGGING_LOGGING_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "spdlog/common.h"

namespace heed::server {

// "debug", "info", "warn" or "error".
absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(absl::string_view name);

// Installs the default logger: "2026-12-01T02:04:10.123Z info message".
void InitLogging(spdlog::level::level_enum level);

}  // namespace heed::server

#endif  // HEED_SERVER_LOGGING_LOGGING_H_
