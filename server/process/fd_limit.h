// heed-server's file-descriptor budget. Every connection holds a descriptor,
// and gRPC 1.51 stops accepting on a listening port for good once accept()
// fails with EMFILE: a client that opens enough connections to reach the soft
// limit (often 1024) would leave the server unreachable for everyone. gRPC
// has no connection cap, so the server raises its soft limit to the hard one
// at start-up and exports both (process_open_fds, process_max_fds).
#ifndef HEED_SERVER_PROCESS_FD_LIMIT_H_
#define HEED_SERVER_PROCESS_FD_LIMIT_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace heed::server {

struct FdLimit {
  uint64_t before = 0;  // soft limit found
  uint64_t after = 0;   // soft limit now (the hard limit, unless it is unlimited)
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit (capped at 1 << 20 when
// the hard limit is unlimited).
absl::StatusOr<FdLimit> RaiseFdLimit();

// The soft limit now; 0 if it cannot be read.
uint64_t CurrentFdLimit();

}  // namespace heed::server

#endif  // HEED_SERVER_PROCESS_FD_LIMIT_H_
