#include "pinfer/core/capped_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "pinfer/core/error.hpp"
#include "posix_fd.hpp"

namespace pinfer {

using detail::errno_text;
using detail::Fd;

SecretBuffer<std::byte> read_file_capped(const std::filesystem::path& path, std::size_t max_bytes) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) throw IoError("cannot read " + path.string() + ": " + errno_text(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) {
    throw IoError("cannot stat " + path.string() + ": " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) throw FormatError(path.string() + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    throw FormatError(path.string() + " has " + std::to_string(st.st_size) +
                      " bytes, above the limit of " + std::to_string(max_bytes));
  }
  SecretBuffer<std::byte> buf(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n = ::read(f.fd, buf.data() + done, buf.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("cannot read " + path.string() + ": " + errno_text(errno));
    if (n == 0) throw IoError(path.string() + " shrank while being read");
    done += static_cast<std::size_t>(n);
  }
  return buf;
}

}  // namespace pinfer
