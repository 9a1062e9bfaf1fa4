#pragma once
// What a TcpChannel moves its bytes through (private to transport): the connected socket
// itself (plain TCP, plain_transport.cpp) or a TLS 1.3 session on it (tls_transport.cpp). The
// channel keeps everything the two have in common: framing, buffering, the handshake deadline,
// receive deadlines and read pacing, close(); a transport only moves bytes, never blocks in a
// read, and says which socket readiness it waits for.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "pinfer/transport/tls_context.hpp"
#include "pinfer/transport/token_bucket.hpp"

namespace pinfer::transport::detail {

enum class Want { nothing, read, write };

struct IoResult {
  std::size_t bytes = 0;      // moved by this call
  Want want = Want::nothing;  // bytes == 0: wait for this readiness, then call again
  bool eof = false;           // read: the peer closed the connection
};

// How a transport waits while it sends: at most poll_ms per wait for the socket (timeout_ms,
// unclamped, is what errors name), and each chunk paced by `bucket` when the link is shaped
// (null: unshaped).
struct SendLimits {
  int poll_ms = 0;
  uint64_t timeout_ms = 0;
  TokenBucket* bucket = nullptr;
};

class ByteTransport {
 public:
  virtual ~ByteTransport() = default;

  // "tcp channel" or "tls channel": how errors name the connection.
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  [[nodiscard]] virtual bool is_tls() const noexcept = 0;
  // True if the connection starts with a handshake (TLS): the channel then runs
  // handshake_step() until it returns Want::nothing before any read or write.
  [[nodiscard]] virtual bool has_handshake() const noexcept = 0;
  // One step of the handshake: Want::nothing when it is complete. Throws IoError (with
  // ErrorReason::tls_required after answering a client that spoke plain TCP to a TLS server).
  [[nodiscard]] virtual Want handshake_step() = 0;
  // Sends every byte of `parts`, in order, paced and bounded as `limits` say. Throws IoError
  // (ErrorReason::peer_closed when the peer is gone); part of the bytes may then be sent.
  virtual void write_all(std::span<const std::span<const std::byte>> parts,
                         const SendLimits& limits) = 0;
  // Without blocking: at least one received byte into `out`, or eof, or what to wait for.
  // `what` names the read in errors. Throws IoError (peer_closed on a reset).
  [[nodiscard]] virtual IoResult read_some(std::span<std::byte> out, std::string_view what) = 0;
  // True if received bytes are held here that poll() on the socket would not show.
  [[nodiscard]] virtual bool has_pending() = 0;
  // The most one refill of the channel's receive buffer (of buffer_bytes) should ask for.
  [[nodiscard]] virtual std::size_t refill_bytes(std::size_t buffer_bytes) const noexcept = 0;
  // The negotiated TLS cipher suite's IANA name; empty for plain TCP or before the handshake.
  [[nodiscard]] virtual std::string cipher_name() = 0;
};

// Over the socket `fd`, which stays owned by the caller (TcpChannel) and must outlive the
// transport. Throw IoError if the TLS session cannot be set up.
[[nodiscard]] std::unique_ptr<ByteTransport> make_plain_transport(int fd);
// Client side; `host` is what the client connected to (checked against the certificate in CA
// mode, sent as SNI when it is a name).
[[nodiscard]] std::unique_ptr<ByteTransport> make_tls_client_transport(
    int fd, std::shared_ptr<const TlsClientContext> tls, const std::string& host);
[[nodiscard]] std::unique_ptr<ByteTransport> make_tls_server_transport(
    int fd, std::shared_ptr<const TlsServerContext> tls);

// Helpers both transports send with.
// Waits for the bucket to allow `bytes` more (reserving them); no-op when unshaped.
void pace(TokenBucket* bucket, std::size_t bytes);
// Waits until fd is writable; throws IoError "<name>: send timed out after N ms" otherwise.
void wait_writable(int fd, const SendLimits& limits, std::string_view name);

}  // namespace pinfer::transport::detail
