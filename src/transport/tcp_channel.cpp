#include "pinfer/transport/tcp_channel.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "pinfer/core/error.hpp"
#include "transport/byte_transport.hpp"
#include "transport/frame_header.hpp"
#include "transport/socket_util.hpp"

namespace pinfer::transport {
namespace {

// Frames up to this size (header included) are copied into the send buffer and go out
// together; larger ones are written from the caller's memory. 64 KiB also bounds the buffer.
constexpr std::size_t kSmallFrameBytes = 16 << 10;
constexpr std::size_t kSendBufferBytes = 64 << 10;
// Reads of at least this many bytes go straight into the caller's memory; smaller ones refill
// the receive buffer so a run of small frames costs one recv, not two per frame.
constexpr std::size_t kRecvBufferBytes = 128 << 10;
constexpr std::size_t kDirectReadBytes = 64 << 10;

// Makes the channel's transport on fd, or closes fd: TcpChannel owns it from here.
template <typename Make>
std::unique_ptr<detail::ByteTransport> transport_or_close(int fd, Make make) {
  try {
    return make();
  } catch (...) {
    ::close(fd);
    throw;
  }
}

}  // namespace

int TcpChannel::connect_socket(std::string_view host, uint16_t port, const TcpOptions& options) {
  validate(options);
  if (port == 0) throw InvalidArgument("cannot connect to port 0");
  const detail::AddrInfoList addrs = detail::resolve(host, port, false);
  const int timeout = detail::poll_timeout(options.connect_timeout_ms);
  std::string last_error = "no address";
  ErrorReason last_reason = ErrorReason::io;
  for (const addrinfo* a = addrs.get(); a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = "socket: " + detail::errno_text(errno);
      continue;
    }
    try {
      detail::set_nonblocking(fd);
      // Buffers must be sized before the handshake so the window scale covers them.
      detail::set_buffer_sizes(fd, options);
      if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) throw IoError(detail::errno_text(errno));
        if (!detail::wait_for(fd, POLLOUT, timeout)) {
          throw IoError("timed out after " + std::to_string(options.connect_timeout_ms) + " ms",
                        ErrorReason::timed_out);
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err != 0) throw IoError(detail::errno_text(err));
      }
      detail::set_nodelay(fd);
      return fd;
    } catch (const IoError& e) {
      ::close(fd);
      last_error = e.what();
      last_reason = e.reason();
    }
  }
  throw IoError(
      "connect to " + to_string(Endpoint{std::string(host), port}) + " failed: " + last_error,
      last_reason);
}

std::unique_ptr<TcpChannel> TcpChannel::connect_plaintext_loopback(std::string_view host,
                                                                   uint16_t port,
                                                                   const TcpOptions& options) {
  // Checked on the text before anything is resolved or sent: plaintext never leaves the host.
  require_loopback_for_plaintext(Endpoint{std::string(host), port});
  const int fd = connect_socket(host, port, options);
  return std::unique_ptr<TcpChannel>(new TcpChannel(
      fd, options, transport_or_close(fd, [&] { return detail::make_plain_transport(fd); })));
}

std::unique_ptr<TcpChannel> TcpChannel::connect_plaintext_loopback(const Endpoint& endpoint,
                                                                   const TcpOptions& options) {
  return connect_plaintext_loopback(endpoint.host, endpoint.port, options);
}

std::unique_ptr<TcpChannel> TcpChannel::connect(const Endpoint& endpoint, const TcpOptions& options,
                                                std::shared_ptr<const TlsClientContext> tls) {
  PINFER_ASSERT(tls != nullptr);
  const int fd = connect_socket(endpoint.host, endpoint.port, options);
  // From here the channel owns the descriptor: every throw below closes it.
  std::unique_ptr<TcpChannel> ch(new TcpChannel(fd, options, transport_or_close(fd, [&] {
                                                  return detail::make_tls_client_transport(
                                                      fd, std::move(tls), endpoint.host);
                                                })));
  try {
    ch->handshake();
  } catch (const IoError& e) {
    // A failure of the handshake itself (not a certificate or a timeout) most often means the
    // server speaks plaintext; the reason lets the caller say so in its own terms.
    const bool protocol_level = e.reason() == ErrorReason::tls_handshake;
    throw IoError("connect to " + to_string(endpoint) + ": " + e.what() +
                      (protocol_level ? " (does the server speak TLS? a plaintext loopback server "
                                        "needs a plaintext loopback client)"
                                      : ""),
                  e.reason());
  }
  return ch;
}

std::unique_ptr<TcpChannel> TcpChannel::adopt(int fd, const TcpOptions& options) {
  validate(options);
  PINFER_ASSERT(fd >= 0);
  detail::set_nonblocking(fd);
  detail::set_nodelay(fd);
  return std::unique_ptr<TcpChannel>(new TcpChannel(fd, options, detail::make_plain_transport(fd)));
}

std::unique_ptr<TcpChannel> TcpChannel::adopt(int fd, const TcpOptions& options,
                                              std::shared_ptr<const TlsServerContext> tls) {
  if (!tls) return adopt(fd, options);
  validate(options);
  PINFER_ASSERT(fd >= 0);
  detail::set_nonblocking(fd);
  detail::set_nodelay(fd);
  std::unique_ptr<detail::ByteTransport> transport =
      detail::make_tls_server_transport(fd, std::move(tls));
  return std::unique_ptr<TcpChannel>(new TcpChannel(fd, options, std::move(transport)));
}

bool TcpChannel::is_tls() const noexcept {
  return transport_->is_tls();
}

std::string TcpChannel::tls_cipher() const {
  return handshake_done_.load() ? transport_->cipher_name() : std::string();
}

void TcpChannel::wait_for_peer(uint64_t timeout_ms) {
  if (!peer_has_sent(timeout_ms)) {
    throw IoError("peer sent nothing within " + std::to_string(timeout_ms) + " ms",
                  ErrorReason::timed_out);
  }
}

bool TcpChannel::peer_has_sent(uint64_t timeout_ms) {
  PINFER_ASSERT(handshake_done_.load());
  if (recv_pos_ < recv_end_ || transport_->has_pending()) return true;
  return detail::wait_for(fd_, POLLIN, detail::poll_timeout(timeout_ms));
}

void TcpChannel::handshake() {
  if (handshake_done_.load()) return;
  std::lock_guard lock(handshake_mu_);
  if (handshake_done_.load()) return;
  if (closed_.load()) throw IoError("tls channel: handshake on a closed channel");
  // One deadline for the whole handshake: a peer trickling bytes cannot stretch it.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.handshake_timeout_ms);
  const auto wait = [&](short events) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0 ||
        !detail::wait_for(fd_, events, detail::poll_timeout(static_cast<uint64_t>(left)))) {
      throw IoError(
          "TLS handshake timed out after " + std::to_string(options_.handshake_timeout_ms) + " ms",
          ErrorReason::timed_out);
    }
    if (closed_.load()) throw IoError("tls channel: closed during the handshake");
  };
  for (;;) {
    const detail::Want want = transport_->handshake_step();
    if (want == detail::Want::nothing) break;
    wait(want == detail::Want::read ? POLLIN : POLLOUT);
  }
  handshake_done_.store(true);
}

TcpChannel::TcpChannel(int fd, const TcpOptions& options,
                       std::unique_ptr<detail::ByteTransport> transport)
    : Channel(options.max_frame_bytes),
      fd_(fd),
      options_(options),
      transport_(std::move(transport)),
      handshake_done_(!transport_->has_handshake()) {
  send_buffer_.reserve(kSendBufferBytes);
  recv_buffer_.resize(kRecvBufferBytes);
  if (options.send_rate_mbps > 0) {
    bucket_.emplace(TokenBucket::link_for_mbps(options.send_rate_mbps, TokenBucket::Clock::now()));
  }
  if (options.recv_rate_mbps > 0) {
    recv_bucket_.emplace(TokenBucket::for_mbps(options.recv_rate_mbps, TokenBucket::Clock::now()));
  }
}

TcpChannel::~TcpChannel() {
  close();
  ::close(fd_);
}

int TcpChannel::io_timeout_ms() const noexcept {
  return detail::poll_timeout(options_.io_timeout_ms);
}

void TcpChannel::start_recv_deadline(uint64_t bytes) noexcept {
  if (options_.min_recv_bytes_per_s == 0) return;
  // bytes <= max_frame_bytes (checked before the payload is read), so no overflow here.
  recv_deadline_ms_ = options_.io_timeout_ms + bytes * 1000 / options_.min_recv_bytes_per_s;
  recv_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(recv_deadline_ms_);
}

int TcpChannel::recv_wait_ms(std::string_view what) const {
  if (recv_deadline_ == std::chrono::steady_clock::time_point::max()) return io_timeout_ms();
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        recv_deadline_ - std::chrono::steady_clock::now())
                        .count();
  if (left <= 0) {
    throw IoError("tcp channel: receive of " + std::string(what) + " too slow: not complete " +
                  std::to_string(recv_deadline_ms_) +
                  " ms after it began (io_timeout_ms plus its length at min_recv_bytes_per_s)");
  }
  return std::min(io_timeout_ms(), detail::poll_timeout(static_cast<uint64_t>(left)));
}

void TcpChannel::write_frame(uint32_t type, std::span<const std::byte> payload) {
  std::byte header[kFrameHeaderBytes];
  detail::encode_frame_header(type, payload.size(), header);
  std::lock_guard lock(send_mu_);
  if (closed_.load()) throw IoError("tcp channel: send on a closed channel");
  if (kFrameHeaderBytes + payload.size() <= kSmallFrameBytes) {
    send_buffer_.insert(send_buffer_.end(), header, header + kFrameHeaderBytes);
    send_buffer_.insert(send_buffer_.end(), payload.begin(), payload.end());
    send_pending_.store(true);
    if (send_buffer_.size() >= kSendBufferBytes) flush_locked();
    return;
  }
  // Large frame: buffered small frames, the header and the payload in one gather write.
  const std::span<const std::byte> parts[3] = {send_buffer_, {header, kFrameHeaderBytes}, payload};
  write_all_locked(parts);
  send_buffer_.clear();
  send_pending_.store(false);
}

void TcpChannel::flush() {
  if (!send_pending_.load()) return;
  std::lock_guard lock(send_mu_);
  flush_locked();
}

void TcpChannel::flush_locked() {
  if (send_buffer_.empty()) return;
  const std::span<const std::byte> parts[1] = {send_buffer_};
  write_all_locked(parts);
  send_buffer_.clear();
  send_pending_.store(false);
}

void TcpChannel::write_all_locked(std::span<const std::span<const std::byte>> parts) {
  if (send_failed_) {
    throw IoError("tcp channel: an earlier send failed part-way; the connection is unusable");
  }
  try {
    handshake();
    transport_->write_all(parts, {.poll_ms = io_timeout_ms(),
                                  .timeout_ms = options_.io_timeout_ms,
                                  .bucket = bucket_ ? &*bucket_ : nullptr});
  } catch (...) {
    // Part of a frame may be on the wire: never send anything after it, or the peer would
    // parse payload bytes as a header.
    send_failed_ = true;
    send_buffer_.clear();
    send_pending_.store(false);
    throw;
  }
}

FrameHeader TcpChannel::read_header() {
  // The peer may be waiting for our buffered frames before it answers.
  flush();
  if (recv_failed_) {
    throw IoError(
        "tcp channel: an earlier receive failed inside a frame; the stream is out of "
        "sync");
  }
  std::byte raw[kFrameHeaderBytes];
  // No frame deadline while waiting for a header (idle between frames is io_timeout_ms per
  // read; a trickled header costs at most 12 reads); the payload has one (read_payload).
  recv_deadline_ = std::chrono::steady_clock::time_point::max();
  read_exact(raw, "frame header");
  current_ = detail::decode_frame_header(raw);
  return current_;
}

void TcpChannel::read_payload(std::span<std::byte> out) {
  PINFER_ASSERT(out.size() == current_.length);
  start_recv_deadline(out.size());
  try {
    read_exact(out, "payload of frame type " + std::to_string(current_.type));
  } catch (const IoError&) {
    recv_failed_ = true;
    throw;
  }
}

void TcpChannel::read_exact(std::span<std::byte> out, std::string_view what) {
  const std::size_t total = out.size();
  std::size_t done = 0;
  while (done < total) {
    if (recv_pos_ < recv_end_) {
      const std::size_t take = std::min(total - done, recv_end_ - recv_pos_);
      std::memcpy(out.data() + done, recv_buffer_.data() + recv_pos_, take);
      recv_pos_ += take;
      done += take;
      continue;
    }
    const std::size_t left = total - done;
    std::size_t got = 0;
    try {
      if (left >= kDirectReadBytes) {
        got = recv_some(out.subspan(done), what);
        done += got;
      } else {
        got = recv_some(
            std::span(recv_buffer_).first(transport_->refill_bytes(recv_buffer_.size())), what);
        recv_pos_ = 0;
        recv_end_ = got;
      }
    } catch (const IoError&) {
      // A timeout between frames leaves the stream in sync (the caller may retry); one inside a
      // frame does not.
      if (done > 0) recv_failed_ = true;
      throw;
    }
    if (got == 0) {
      throw IoError("tcp channel: peer closed the connection while reading " + std::string(what) +
                        ": " + std::to_string(total - done) + " of " + std::to_string(total) +
                        " bytes missing",
                    ErrorReason::peer_closed);
    }
  }
}

std::size_t TcpChannel::recv_some(std::span<std::byte> out, std::string_view what) {
  handshake();
  if (!recv_bucket_) return recv_unpaced(out, what);
  // Read pacing: wait until the bucket allows more, read at most one chunk, charge what came.
  const auto wait = recv_bucket_->wait_time(TokenBucket::Clock::now());
  if (wait > TokenBucket::Clock::duration::zero()) std::this_thread::sleep_for(wait);
  const std::size_t got =
      recv_unpaced(out.first(std::min(out.size(), recv_bucket_->chunk_bytes())), what);
  recv_bucket_->charge(got, TokenBucket::Clock::now());
  return got;
}

std::size_t TcpChannel::recv_unpaced(std::span<std::byte> out, std::string_view what) {
  for (;;) {
    const detail::IoResult io = transport_->read_some(out, what);
    if (io.bytes > 0) return io.bytes;
    if (io.eof) return 0;
    const int wait = recv_wait_ms(what);
    if (!detail::wait_for(fd_, io.want == detail::Want::write ? POLLOUT : POLLIN, wait)) {
      if (wait < io_timeout_ms()) (void)recv_wait_ms(what);  // the frame deadline expired
      throw IoError(std::string(transport_->name()) + ": receive of " + std::string(what) +
                        " timed out after " + std::to_string(options_.io_timeout_ms) + " ms",
                    ErrorReason::timed_out);
    }
  }
}

void TcpChannel::close() noexcept {
  if (closed_.exchange(true)) return;
  // Best effort: a frame already accepted by send() should reach the peer. try_lock so a
  // close() from another thread cannot hang behind a blocked sender; never while a TLS
  // handshake is pending (that could take handshake_timeout_ms). No close_notify is sent: a
  // TLS read may be running on another thread, and frames carry their lengths (tls_context).
  if (handshake_done_.load() && send_mu_.try_lock()) {
    try {
      flush_locked();
    } catch (...) {
      // The connection may already be gone.
    }
    send_mu_.unlock();
  }
  // shutdown (not close) wakes a receive blocked in poll() on another thread; the descriptor
  // is released in the destructor, so it cannot be reused while that thread still holds it.
  ::shutdown(fd_, SHUT_RDWR);
}

}  // namespace pinfer::transport
