#include "pinfer/core/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/core/hex.hpp"
#include "pinfer/core/prg.hpp"
#include "posix_fd.hpp"

namespace pinfer {
namespace {

using detail::errno_text;
using detail::Fd;

std::string random_suffix() {
  std::byte nonce[8];
  os_random_bytes(nonce);
  return to_hex(nonce);
}

}  // namespace

void fsync_path(const std::filesystem::path& path, bool directory) {
  Fd f(::open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC));
  if (f.fd < 0 || ::fsync(f.fd) != 0) {
    throw IoError("cannot fsync " + path.string() + ": " + errno_text(errno));
  }
}

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes,
                           mode_t mode) {
  const std::filesystem::path tmp = path.string() + ".tmp-" + random_suffix();
  const auto fail = [&](const std::string& what) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot write " + path.string() + ": " + what + ": " + errno_text(err));
  };
  {
    // O_EXCL: never write through a file (or symlink) someone planted at the temporary name.
    Fd f(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (f.fd < 0) throw fail("open");
    // The umask may only clear bits; fchmod makes the mode exact either way.
    if (::fchmod(f.fd, mode) != 0) throw fail("chmod");
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
  fsync_path(path.has_parent_path() ? path.parent_path() : std::filesystem::path("."), true);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text, mode_t mode) {
  write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())), mode);
}

void create_private_directories(const std::filesystem::path& dir) {
  if (dir.empty()) throw InvalidArgument("empty folder name");
  std::filesystem::path at;
  for (const auto& part : dir) {
    at /= part;
    if (::mkdir(at.c_str(), kPrivateDirectoryMode) != 0 && errno != EEXIST) {
      throw IoError("cannot create folder " + at.string() + ": " + errno_text(errno));
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    throw IoError("cannot stat " + dir.string() + ": " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) throw IoError(dir.string() + " exists and is not a folder");
  if ((st.st_mode & 07777) != kPrivateDirectoryMode &&
      ::chmod(dir.c_str(), kPrivateDirectoryMode) != 0) {
    throw IoError("cannot set mode 0700 on " + dir.string() + ": " + errno_text(errno));
  }
}

int open_private_file_for_writing(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) throw IoError("cannot create " + path.string() + ": " + errno_text(errno));
  if (::fchmod(fd, kPrivateFileMode) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError("cannot set mode 0600 on " + path.string() + ": " + errno_text(err));
  }
  return fd;
}

}  // namespace pinfer
