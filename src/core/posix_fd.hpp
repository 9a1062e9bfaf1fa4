#pragma once
// Private helpers of core's file code (private_files.cpp, capped_read.cpp, byte_stream.cpp):
// a descriptor closed on scope exit and errno as text.
#include <unistd.h>

#include <cstring>
#include <string>

namespace pinfer::detail {

[[nodiscard]] inline std::string errno_text(int err) {
  char buf[256];
  return std::string(strerror_r(err, buf, sizeof buf));
}

// Closes a descriptor on scope exit.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace pinfer::detail
