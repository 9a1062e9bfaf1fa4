#pragma once
// Channel over a TCP connection (see pinfer/core/channel.hpp for the frame semantics).
//
// Wire format per frame: type u32 LE, length u64 LE (kFrameHeaderBytes), then the payload. The
// Channel base checks type and caps before allocating; this class moves bytes:
//  - Small frames are buffered and go out together on flush(), before the next receive, when
//    the buffer fills, or on close(); a large frame is sent straight from the caller's memory
//    with one gather write (header + payload), so multi-GB streams are not copied.
//  - Every read and write waits with poll() for at most io_timeout_ms of no progress, then
//    throws IoError "... timed out after N ms". Disconnects mid-frame throw IoError naming what
//    was being read and how many bytes were missing; resets and broken pipes throw IoError
//    (sends use MSG_NOSIGNAL, so no SIGPIPE).
//  - A receive timeout between frames may be retried; any failure inside a frame (either
//    direction) leaves the connection unusable and later calls throw IoError.
//  - Callers must flush() (or receive) after their last small frame when they will not touch
//    the channel for a while: buffered frames are not sent on a timer.
//  - send_rate_mbps > 0 paces sends with a token bucket (token_bucket.hpp); recv_rate_mbps > 0
//    paces what reads hand to the caller with another.
//  - Transport security: the same framing, buffering, shaping and timeouts run either over the
//    plain socket or over a TLS 1.3 session on it (tls_context.hpp), one byte transport each
//    (src/transport/byte_transport.hpp) behind the same channel code. A TLS client channel
//    completes its handshake (and checks the server) in connect(); a server channel from
//    adopt() / TcpListener::accept() defers it to handshake() or its first read or write, so
//    the accepting thread never waits on a client. Handshakes are bounded by
//    TcpOptions::handshake_timeout_ms in total, so a silent client is dropped quickly.
// Thread safety: one thread may send while another receives (as Channel); close() may be
// called from any thread and wakes a blocked receive.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/core/channel.hpp"
#include "pinfer/transport/endpoint.hpp"
#include "pinfer/transport/tcp_options.hpp"
#include "pinfer/transport/tls_context.hpp"
#include "pinfer/transport/token_bucket.hpp"

namespace pinfer::transport {

namespace detail {
class ByteTransport;
}

class TcpChannel final : public Channel {
 public:
  // Plaintext, without TLS: only to a loopback host (127.0.0.0/8, ::1, localhost, as
  // is_loopback_host says, nothing resolved), for tests and experiments on one machine. Waits
  // at most connect_timeout_ms. Throws InvalidArgument for a non-loopback host
  // (ErrorReason::plaintext_refused), port 0 or bad options; IoError if connecting fails or
  // times out.
  [[nodiscard]] static std::unique_ptr<TcpChannel> connect_plaintext_loopback(
      std::string_view host, uint16_t port, const TcpOptions& options = {});
  [[nodiscard]] static std::unique_ptr<TcpChannel> connect_plaintext_loopback(
      const Endpoint& endpoint, const TcpOptions& options = {});
  // Connects and runs the TLS 1.3 handshake, checking the server as `tls` says (CA chain and
  // the host name / IP of `endpoint`, or the pinned fingerprint). Throws IoError naming the
  // endpoint and the reason (unreachable, handshake timeout, untrusted or mismatched
  // certificate).
  [[nodiscard]] static std::unique_ptr<TcpChannel> connect(
      const Endpoint& endpoint, const TcpOptions& options,
      std::shared_ptr<const TlsClientContext> tls);
  // Takes ownership of a connected stream socket (e.g. from accept); configures it
  // (non-blocking, TCP_NODELAY). Throws InvalidArgument for bad options, IoError if the socket
  // cannot be configured; on a throw the caller still owns (and must close) fd. Plaintext: the
  // caller answers for where the socket leads (TcpListener only listens in plaintext on
  // loopback).
  [[nodiscard]] static std::unique_ptr<TcpChannel> adopt(int fd, const TcpOptions& options);
  // The same as the server side of a TLS connection (tls non-null): the handshake runs on the
  // first handshake(), read or write.
  [[nodiscard]] static std::unique_ptr<TcpChannel> adopt(
      int fd, const TcpOptions& options, std::shared_ptr<const TlsServerContext> tls);

  ~TcpChannel() override;

  // Completes a pending TLS handshake (no-op for plain TCP or when done), within
  // handshake_timeout_ms. Throws IoError on failure or timeout; the channel is then unusable.
  void handshake();
  [[nodiscard]] bool is_tls() const noexcept;
  // The negotiated TLS 1.3 cipher suite's IANA name (TLS_AES_128_GCM_SHA256 between pinfer
  // peers); empty for plain TCP or before the handshake.
  [[nodiscard]] std::string tls_cipher() const;
  // Waits at most timeout_ms until the peer has sent something (bytes buffered here or in the
  // TLS session, or the socket readable, which includes EOF). A server calls it before the
  // first frame so a client that connects and stays silent frees its session slot quickly
  // instead of after io_timeout_ms. Requires the handshake to be done. Throws IoError on
  // timeout.
  void wait_for_peer(uint64_t timeout_ms);
  // The same without the throw: whether the peer sent something (or closed) within timeout_ms
  // (0: only what has arrived). A server asks it of a client that must stay silent while it
  // waits in the admission queue: true then means the client left (or broke the protocol).
  [[nodiscard]] bool peer_has_sent(uint64_t timeout_ms);

  // Sends buffered small frames. Throws IoError on failure or timeout.
  void flush() override;
  // Flushes what it can (best effort), then shuts the connection down in both directions.
  void close() noexcept override;

  [[nodiscard]] const TcpOptions& options() const noexcept { return options_; }

 protected:
  void write_frame(uint32_t type, std::span<const std::byte> payload) override;
  FrameHeader read_header() override;
  void read_payload(std::span<std::byte> out) override;

 private:
  // The TCP connection under both connect_plaintext_loopback and the TLS connect: a
  // connected, configured socket the caller owns. Throws as connect.
  [[nodiscard]] static int connect_socket(std::string_view host, uint16_t port,
                                          const TcpOptions& options);
  // Takes ownership of fd and moves its bytes through `transport` (made on fd).
  TcpChannel(int fd, const TcpOptions& options, std::unique_ptr<detail::ByteTransport> transport);

  // Sends every byte of `parts` in order through the transport (gather writes over plain TCP,
  // records over TLS; paced when shaped). Requires send_mu_.
  void write_all_locked(std::span<const std::span<const std::byte>> parts);
  void flush_locked();
  // Fills `out` exactly from the buffer and the socket; `what` names it in errors.
  void read_exact(std::span<std::byte> out, std::string_view what);
  // Receives at most out.size() bytes (at least one); returns 0 on orderly EOF.
  std::size_t recv_some(std::span<std::byte> out, std::string_view what);
  // recv_some without read pacing.
  std::size_t recv_unpaced(std::span<std::byte> out, std::string_view what);
  int io_timeout_ms() const noexcept;
  // Starts the deadline of a frame part of `bytes` (TcpOptions::min_recv_bytes_per_s).
  void start_recv_deadline(uint64_t bytes) noexcept;
  // How long recv_some may wait now: io_timeout_ms, capped by the frame deadline. Throws
  // IoError naming `what` once the deadline has passed.
  int recv_wait_ms(std::string_view what) const;

  int fd_;
  TcpOptions options_;
  std::unique_ptr<detail::ByteTransport> transport_;  // plain TCP or TLS (byte_transport.hpp)
  std::mutex handshake_mu_;
  std::atomic<bool> handshake_done_{true};
  std::atomic<bool> closed_{false};

  std::mutex send_mu_;
  std::vector<std::byte> send_buffer_;  // small frames waiting for flush
  std::atomic<bool> send_pending_{false};
  std::optional<TokenBucket> bucket_;
  std::optional<TokenBucket> recv_bucket_;  // read pacing (recv_rate_mbps); reader thread only
  bool send_failed_ = false;                // a write stopped inside a frame (guarded by send_mu_)

  std::vector<std::byte> recv_buffer_;  // bytes received beyond the last read
  std::size_t recv_pos_ = 0;
  std::size_t recv_end_ = 0;
  FrameHeader current_;       // the header read_payload belongs to
  bool recv_failed_ = false;  // a read stopped inside a frame: the stream is out of sync
  std::chrono::steady_clock::time_point recv_deadline_ =
      std::chrono::steady_clock::time_point::max();
  uint64_t recv_deadline_ms_ = 0;  // its length, for the error message
};

}  // namespace pinfer::transport
