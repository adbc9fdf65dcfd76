// W3C Trace Context (https://www.w3.org/TR/trace-context/): a caller's
// `traceparent` header ties heed's request log line to the caller's trace.
#ifndef HEED_SERVER_SERVICE_TRACE_CONTEXT_H_
#define HEED_SERVER_SERVICE_TRACE_CONTEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace heed::server {

// The trace id (32 lowercase hex digits) of a valid version-00 traceparent
// value "00-<trace id>-<parent id>-<flags>"; empty for anything else,
// including the all-zero ids the specification forbids.
std::string TraceIdFromTraceparent(absl::string_view traceparent);

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_TRACE_CONTEXT_H_
