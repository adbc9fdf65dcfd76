#include "tests/testing/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace heed::testing {
namespace {

// Log lines are "<UTC time> <level> <message>".
int PortAfter(const std::string& output, const std::string& message_prefix) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    const size_t at = line.find(" info " + message_prefix);
    if (at == absl::string_view::npos) continue;
    int port = 0;
    if (absl::SimpleAtoi(line.substr(at + 6 + message_prefix.size()), &port)) return port;
  }
  return 0;
}

}  // namespace

absl::StatusOr<ServerProcess> ServerProcess::Start(
    const std::string& binary, const std::vector<std::string>& extra_args,
    absl::Duration timeout) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return absl::InternalError("pipe failed");
  std::vector<std::string> args = {binary, "--grpc_address=127.0.0.1:0",
                                   "--metrics_address=127.0.0.1:0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());

  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    std::fprintf(stderr, "execv %s: %s\n", binary.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(pipe_fds[1]);
  ServerProcess process;
  process.pid_ = pid;
  process.stdout_fd_ = pipe_fds[0];
  if (absl::Status status = process.ReadUntilPorts(timeout); !status.ok()) {
    return status;
  }
  return process;
}

ServerProcess::ServerProcess(ServerProcess&& other) noexcept
    : pid_(other.pid_),
      stdout_fd_(other.stdout_fd_),
      grpc_port_(other.grpc_port_),
      metrics_port_(other.metrics_port_),
      http_port_(other.http_port_),
      output_(std::move(other.output_)) {
  other.pid_ = -1;
  other.stdout_fd_ = -1;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

std::string ServerProcess::grpc_address() const {
  return absl::StrCat("127.0.0.1:", grpc_port_);
}

absl::Status ServerProcess::ReadUntilPorts(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char buffer[4096];
  // "serving" follows model loading and warm-up (health turns SERVING then).
  while (grpc_port_ == 0 || metrics_port_ == 0 ||
         output_.find(" info serving\n") == std::string::npos) {
    const int wait_ms =
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (wait_ms <= 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          "server did not report its ports and readiness; output: ", output_));
    }
    pollfd pfd{stdout_fd_, POLLIN, 0};
    if (poll(&pfd, 1, wait_ms) <= 0) continue;
    const ssize_t n = read(stdout_fd_, buffer, sizeof(buffer));
    if (n <= 0) {
      return absl::InternalError(
          absl::StrCat("server exited before reporting its ports; output: ", output_));
    }
    output_.append(buffer, n);
    grpc_port_ = PortAfter(output_, "grpc listening on port ");
    metrics_port_ = PortAfter(output_, "metrics listening on port ");
    http_port_ = PortAfter(output_, "http listening on port ");
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ServerProcess::Stop(int signal, absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  kill(pid_, signal);
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("server did not exit within ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
  // Collect the rest of the output for diagnostics.
  char buffer[4096];
  ssize_t n;
  while ((n = read(stdout_fd_, buffer, sizeof(buffer))) > 0) output_.append(buffer, n);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace heed::testing
