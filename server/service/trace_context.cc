#include "server/service/trace_context.h"

#include <vector>

#include "absl/strings/str_split.h"

namespace heed::server {
namespace {

bool IsLowerHex(absl::string_view s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZero(absl::string_view s) { return s.find_first_not_of('0') == s.npos; }

}  // namespace

std::string TraceIdFromTraceparent(absl::string_view traceparent) {
  const std::vector<absl::string_view> parts = absl::StrSplit(traceparent, '-');
  if (parts.size() != 4 || parts[0] != "00" || !IsLowerHex(parts[1], 32) ||
      !IsLowerHex(parts[2], 16) || !IsLowerHex(parts[3], 2) || AllZero(parts[1]) ||
      AllZero(parts[2])) {
    return "";
  }
  return std::string(parts[1]);
}

}  // namespace heed::server
