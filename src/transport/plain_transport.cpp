// Plain TCP: bytes go straight to and from the socket (byte_transport.hpp).
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>

#include "pinfer/core/error.hpp"
#include "transport/byte_transport.hpp"
#include "transport/socket_util.hpp"

namespace pinfer::transport::detail {
namespace {

// At most this many iovecs per sendmsg (TcpChannel never gathers more than 3 parts).
constexpr std::size_t kMaxParts = 4;
constexpr std::string_view kName = "tcp channel";

class PlainTransport final : public ByteTransport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}

  std::string_view name() const noexcept override { return kName; }
  bool is_tls() const noexcept override { return false; }
  bool has_handshake() const noexcept override { return false; }
  Want handshake_step() override { return Want::nothing; }
  bool has_pending() override { return false; }
  std::size_t refill_bytes(std::size_t buffer_bytes) const noexcept override {
    return buffer_bytes;
  }
  std::string cipher_name() override { return {}; }

  // Gather writes straight from the caller's memory, each trimmed to one chunk of the bucket
  // when the link is shaped.
  void write_all(std::span<const std::span<const std::byte>> parts,
                 const SendLimits& limits) override {
    PINFER_ASSERT(parts.size() <= kMaxParts);
    std::size_t part = 0;
    std::size_t offset = 0;  // into parts[part]
    const auto skip_empty = [&] {
      while (part < parts.size() && offset == parts[part].size()) {
        ++part;
        offset = 0;
      }
    };
    skip_empty();
    while (part < parts.size()) {
      const std::size_t limit = limits.bucket ? limits.bucket->chunk_bytes() : SIZE_MAX;
      // Gather the remaining parts, trimmed to `limit` bytes.
      iovec iov[kMaxParts];
      std::size_t n_iov = 0;
      std::size_t planned = 0;
      for (std::size_t p = part; p < parts.size() && planned < limit; ++p) {
        const std::size_t start = p == part ? offset : 0;
        const std::size_t len = std::min(parts[p].size() - start, limit - planned);
        if (len == 0) continue;
        iov[n_iov++] = {const_cast<std::byte*>(parts[p].data() + start), len};
        planned += len;
      }
      pace(limits.bucket, planned);  // the chunk leaves when the emulated link has serialized it
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = n_iov;
      const ssize_t sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (limits.bucket) {
        limits.bucket->refund(planned - static_cast<std::size_t>(std::max<ssize_t>(sent, 0)));
      }
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          wait_writable(fd_, limits, kName);
          continue;
        }
        const int err = errno;
        if (err == EPIPE || err == ECONNRESET) {
          throw IoError(
              "tcp channel: connection closed by peer while sending (" + errno_text(err) + ")",
              ErrorReason::peer_closed);
        }
        throw IoError("tcp channel: send failed: " + errno_text(err));
      }
      std::size_t advance = static_cast<std::size_t>(sent);
      while (advance > 0) {
        const std::size_t take = std::min(advance, parts[part].size() - offset);
        offset += take;
        advance -= take;
        skip_empty();
      }
    }
  }

  IoResult read_some(std::span<std::byte> out, std::string_view what) override {
    for (;;) {
      const ssize_t got = ::recv(fd_, out.data(), out.size(), 0);
      if (got > 0) return {static_cast<std::size_t>(got), Want::nothing, false};
      if (got == 0) return {0, Want::nothing, true};
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return {0, Want::read, false};
      if (err == ECONNRESET) {
        throw IoError("tcp channel: connection reset by peer while reading " + std::string(what),
                      ErrorReason::peer_closed);
      }
      throw IoError("tcp channel: receive of " + std::string(what) + " failed: " + errno_text(err));
    }
  }

 private:
  int fd_;
};

}  // namespace

std::unique_ptr<ByteTransport> make_plain_transport(int fd) {
  return std::make_unique<PlainTransport>(fd);
}

}  // namespace pinfer::transport::detail
