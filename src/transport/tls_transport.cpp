// TLS 1.3 over the socket: bytes go through a TlsSession (byte_transport.hpp, tls_session.hpp).
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "pinfer/core/error.hpp"
#include "transport/byte_transport.hpp"
#include "transport/frame_header.hpp"
#include "transport/socket_util.hpp"
#include "transport/tls_session.hpp"

namespace pinfer::transport::detail {
namespace {

constexpr std::string_view kName = "tls channel";
// A refill of the channel's receive buffer asks for at most one record's plaintext (RFC 8446
// 5.1: 2^14 bytes): TlsSession::read_some would otherwise decrypt every buffered record into
// it, and a following large payload would be copied once more on its way out.
constexpr std::size_t kRefillBytes = 16 << 10;
// The first byte of a TLS handshake record (content type 22).
constexpr std::byte kHandshakeRecord{22};

class TlsTransport final : public ByteTransport {
 public:
  TlsTransport(int fd, std::shared_ptr<const TlsClientContext> tls, const std::string& host)
      : fd_(fd), session_(fd, std::move(tls), host) {}
  TlsTransport(int fd, std::shared_ptr<const TlsServerContext> tls)
      : fd_(fd), session_(fd, std::move(tls)) {}

  std::string_view name() const noexcept override { return kName; }
  bool is_tls() const noexcept override { return true; }
  bool has_handshake() const noexcept override { return true; }
  bool has_pending() override { return session_.has_pending(); }
  std::size_t refill_bytes(std::size_t buffer_bytes) const noexcept override {
    return std::min(buffer_bytes, kRefillBytes);
  }
  std::string cipher_name() override { return session_.cipher_name(); }

  Want handshake_step() override {
    if (!session_.is_client() && !first_byte_checked_) {
      // A plain-TCP pinfer client sends a frame header, not a TLS record: answer it in its own
      // language so it gets a clear error instead of a dropped connection.
      std::byte first{};
      const ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Want::read;
      first_byte_checked_ = true;
      if (n == 1 && first != kHandshakeRecord) refuse_plaintext_client();
    }
    return session_.handshake_step();
  }

  // TLS has no gather write: records are encrypted part by part into the session's output
  // buffer, which goes out in large send()s whenever it fills and before this returns, so a
  // written frame is on the wire as with plain TCP. After a "want", the same bytes are offered
  // again (as OpenSSL requires).
  void write_all(std::span<const std::span<const std::byte>> parts,
                 const SendLimits& limits) override {
    for (const std::span<const std::byte> part : parts) {
      std::size_t offset = 0;
      while (offset < part.size()) {
        const IoResult io = session_.write_some(part.subspan(offset));
        offset += io.bytes;
        if (io.bytes > 0) continue;
        if (io.want == Want::read) {
          if (!wait_for(fd_, POLLIN, limits.poll_ms)) {
            throw IoError("tls channel: send timed out after " + std::to_string(limits.timeout_ms) +
                          " ms");
          }
          continue;
        }
        send_output(false, limits);
      }
    }
    send_output(true, limits);
  }

  IoResult read_some(std::span<std::byte> out, std::string_view) override {
    return session_.read_some(out);
  }

 private:
  // Sends the session's buffered records: all of them, or (all == false) at least one send()'s
  // worth. Shaping meters ciphertext, the bytes on the wire.
  void send_output(bool all, const SendLimits& limits) {
    if (!all && session_.buffered_output() == 0) {
      // OpenSSL wants to write with nothing buffered here: wait for the socket, never spin.
      wait_writable(fd_, limits, kName);
      return;
    }
    while (session_.buffered_output() > 0) {
      std::size_t limit = SIZE_MAX;
      if (limits.bucket) {  // the chunk leaves when the emulated link has serialized it
        limit = std::min(limits.bucket->chunk_bytes(), session_.buffered_output());
        pace(limits.bucket, limit);
      }
      const IoResult io = session_.send_buffered(limit);
      if (limits.bucket) limits.bucket->refund(limit - io.bytes);
      if (io.bytes > 0) {
        if (!all) return;
        continue;
      }
      wait_writable(fd_, limits, kName);
    }
  }

  [[noreturn]] void refuse_plaintext_client() {
    const std::vector<std::byte> payload = encode_error_payload(
        ErrorReason::tls_required,
        "this server requires TLS: connect over TLS, checking its certificate against a "
        "pinned fingerprint or a CA (a plaintext client only works against a plaintext "
        "loopback server)");
    std::byte header[kFrameHeaderBytes];
    encode_frame_header(kErrorFrameType, payload.size(), header);
    (void)::send(fd_, header, sizeof header, MSG_NOSIGNAL);
    (void)::send(fd_, payload.data(), payload.size(), MSG_NOSIGNAL);
    throw IoError("client spoke plain TCP to this TLS server; told it to use TLS",
                  ErrorReason::tls_required);
  }

  int fd_;
  TlsSession session_;
  bool first_byte_checked_ = false;  // server: a plaintext client was looked for
};

}  // namespace

std::unique_ptr<ByteTransport> make_tls_client_transport(
    int fd, std::shared_ptr<const TlsClientContext> tls, const std::string& host) {
  return std::make_unique<TlsTransport>(fd, std::move(tls), host);
}

std::unique_ptr<ByteTransport> make_tls_server_transport(
    int fd, std::shared_ptr<const TlsServerContext> tls) {
  return std::make_unique<TlsTransport>(fd, std::move(tls));
}

}  // namespace pinfer::transport::detail
