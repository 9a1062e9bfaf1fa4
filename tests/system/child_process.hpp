#pragma once
// A child process for system tests: fork + exec of a command with stdout and stderr in files,
// optionally under RLIMIT_FSIZE (SIGXFSZ ignored, so writes past the limit fail with EFBIG as
// on a full disk). The destructor SIGKILLs and reaps a child still running, so a failing test
// never leaves processes behind. Header-only: tests/system globs only *_test.cpp.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pinfer::system_test {

struct SpawnOptions {
  std::filesystem::path stdout_path;
  std::filesystem::path stderr_path;
  rlim_t max_file_bytes = RLIM_INFINITY;
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, SpawnOptions options)
      : options_(std::move(options)) {
    // Everything the child needs is prepared before fork: between fork and exec it may only
    // call async-signal-safe functions (the test process has threads).
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const std::string out = options_.stdout_path.string(), err = options_.stderr_path.string();
    const rlimit limit{options_.max_file_bytes, options_.max_file_bytes};
    started_ = std::chrono::steady_clock::now();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
      if (limit.rlim_cur != RLIM_INFINITY) {
        struct sigaction ign {};
        ign.sa_handler = SIG_IGN;
        ::sigaction(SIGXFSZ, &ign, nullptr);
        ::setrlimit(RLIMIT_FSIZE, &limit);
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() {
    if (!status_) {
      ::kill(pid_, SIGKILL);
      (void)wait_for(std::chrono::seconds(30));
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] bool running() { return !poll(); }
  void signal(int sig) const {
    if (!status_) ::kill(pid_, sig);
  }
  // Exit code, or 128 + signal number; nullopt if still running after `timeout`.
  std::optional<int> wait_for(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!poll()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return status_;
  }
  [[nodiscard]] double seconds_since_start() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }
  [[nodiscard]] std::string stdout_text() const { return read_text(options_.stdout_path); }
  [[nodiscard]] std::string stderr_text() const { return read_text(options_.stderr_path); }

 private:
  bool poll() {
    if (status_) return true;
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r != pid_) return false;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return true;
  }

  SpawnOptions options_;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace pinfer::system_test
