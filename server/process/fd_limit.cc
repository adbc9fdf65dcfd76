#include "server/process/fd_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace heed::server {
namespace {

constexpr rlim_t kUnlimitedCap = rlim_t{1} << 20;

}  // namespace

absl::StatusOr<FdLimit> RaiseFdLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(
        absl::StrCat("getrlimit(RLIMIT_NOFILE): ", strerror(errno)));
  }
  FdLimit result;
  result.before = limit.rlim_cur;
  const rlim_t target = limit.rlim_max == RLIM_INFINITY ? kUnlimitedCap : limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    limit.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return absl::InternalError(
          absl::StrCat("setrlimit(RLIMIT_NOFILE, ", target, "): ", strerror(errno)));
    }
  }
  result.after = CurrentFdLimit();
  return result;
}

uint64_t CurrentFdLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return limit.rlim_cur;
}

}  // namespace heed::server
