#pragma once
// Another `pinfer` of this very executable as a child process (`/proc/self/exe ARGS`), with its
// stdout on a pipe read line by line and its stderr in a file: the servers and registrations of
// `pinfer bench load`. Its own process, so its peak memory is its own (peak_rss_bytes).
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace pinfer::cli {

class SelfProcess {
 public:
  // args[0] is the program name shown in ps; args[1] the command. Throws IoError when it cannot
  // be started.
  SelfProcess(const std::vector<std::string>& args, const std::filesystem::path& stderr_path);
  // SIGKILLs and reaps a child still running.
  ~SelfProcess();
  SelfProcess(const SelfProcess&) = delete;
  SelfProcess& operator=(const SelfProcess&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  // The next line of its stdout, with its newline; empty at the end of the output.
  [[nodiscard]] std::string line();
  // Waits for it to end: its exit code, or 128 + the signal that ended it.
  int wait();

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

// "VmHWM" of a live process (its peak resident memory), in bytes. Throws IoError.
[[nodiscard]] uint64_t peak_rss_bytes(pid_t pid);

}  // namespace pinfer::cli
