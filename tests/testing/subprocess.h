// A child process started from argv, with output to a log file, killed when
// the object goes away (for helpers such as a real Prometheus server).
#ifndef HEED_TESTS_TESTING_SUBPROCESS_H_
#define HEED_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace heed::testing {

class Subprocess {
 public:
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::string& log_path);
  Subprocess(Subprocess&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  Subprocess& operator=(Subprocess&&) = delete;
  ~Subprocess();

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

// A port nothing listens on right now (bind to port 0, read it, close).
int FreePort();

struct CommandResult {
  int exit_code = -1;  // -1 when the command did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs a shell command line to completion.
CommandResult RunCommand(const std::string& command);

}  // namespace heed::testing

#endif  // HEED_TESTS_TESTING_SUBPROCESS_H_
