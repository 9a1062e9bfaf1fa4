#include "private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "digest.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer::protocol::detail {
namespace {

std::string errno_text(int err) {
  char buf[256];
  return std::string(strerror_r(err, buf, sizeof buf));
}

// Closes a descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void fsync_directory(const std::filesystem::path& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) {
    throw IoError("cannot fsync directory " + dir.string() + ": " + errno_text(errno));
  }
}

}  // namespace

void write_private_file_atomically(const std::filesystem::path& path,
                                   std::span<const std::byte> bytes) {
  std::byte nonce[8];
  os_random_bytes(nonce);
  const std::filesystem::path tmp =
      path.string() + ".tmp-" +
      to_hex(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(nonce), 8));
  const auto fail = [&](const std::string& what) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot write " + path.string() + ": " + what + ": " + errno_text(err));
  };
  {
    // O_EXCL: never write through a file (or symlink) someone planted at the temporary name.
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (f.fd < 0) throw fail("open");
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(f.fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw fail("write (disk full?)");
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(f.fd) != 0) throw fail("fsync");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw fail("rename");
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  fsync_directory(dir);
}

SecretBuffer<std::byte> read_private_file(const std::filesystem::path& path,
                                          std::size_t max_bytes) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
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

}  // namespace pinfer::protocol::detail
