// Starts heed-server as a child process on free loopback ports and stops it
// with a signal, so integration tests exercise the real binary.
#ifndef HEED_TESTS_TESTING_SERVER_PROCESS_H_
#define HEED_TESTS_TESTING_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace heed::testing {

class ServerProcess {
 public:
  // Starts `binary` with --grpc_address=127.0.0.1:0 --metrics_address=127.0.0.1:0
  // plus `extra_args`, and waits until it has printed both ports and that it
  // is serving (models loaded and warmed up).
  static absl::StatusOr<ServerProcess> Start(const std::string& binary,
                                             const std::vector<std::string>& extra_args,
                                             absl::Duration timeout = absl::Seconds(60));

  ServerProcess(ServerProcess&& other) noexcept;
  ServerProcess& operator=(ServerProcess&&) = delete;
  ~ServerProcess();  // kills the process if it still runs

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  // 0 unless the server was started with --http_address.
  int http_port() const { return http_port_; }
  std::string grpc_address() const;

  // Sends `signal` and waits for exit; returns the exit code (or 128 + signal if
  // killed by one). Fails if it does not exit within `timeout`.
  absl::StatusOr<int> Stop(int signal, absl::Duration timeout);

  // Everything the server printed to stdout so far.
  const std::string& output() const { return output_; }

 private:
  ServerProcess() = default;
  absl::Status ReadUntilPorts(absl::Duration timeout);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  int http_port_ = 0;
  std::string output_;
};

}  // namespace heed::testing

#endif  // HEED_TESTS_TESTING_SERVER_PROCESS_H_
