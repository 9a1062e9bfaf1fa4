#pragma once
// One TLS 1.3 session over a connected non-blocking socket (private to transport): the OpenSSL
// side of the TLS byte transport (tls_transport.cpp), which TcpChannel uses instead of plain
// send/recv when the connection is secured. Framing, buffering and timeouts stay in TcpChannel,
// pacing in the transport; this class only moves bytes and says which socket readiness it
// waits for.
//
// I/O goes through a BIO of our own that calls send(MSG_NOSIGNAL)/recv on the descriptor, so a
// closed peer is an error, never SIGPIPE. The BIO buffers both directions in user space
// (docs/perf/tls.md): OpenSSL writes and reads one record (<= 16 KiB) at a time, and a syscall
// per record (plus OpenSSL's own read-ahead, which moves the unread rest of its buffer to the
// front before every record) cost more than the cipher.
//  - Receive: one recv() fills kInputBufferBytes; OpenSSL (read-ahead off) copies each record
//    header and body out of it.
//  - Send: write_some() encrypts records into kOutputBufferBytes without touching the socket;
//    the caller sends them with send_buffered() (one send() for many records), so pacing and
//    poll() timeouts stay in the transport. Records OpenSSL writes outside write_some (handshake,
//    alerts) go straight to the socket, behind any still buffered so the order is kept.
// Thread safety: OpenSSL does not allow concurrent calls on one SSL object, but TcpChannel
// sends on one thread while it receives on another. Every call into OpenSSL is non-blocking and
// made under mu_, and the waiting (poll) happens outside the lock, so the two directions never
// block each other.
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "pinfer/transport/tls_context.hpp"
#include "transport/byte_transport.hpp"

struct ssl_st;

namespace pinfer::transport::detail {

using TlsIo = IoResult;

class TlsSession {
 public:
  // Client side; `host` is what the client connected to (checked against the certificate in
  // CA mode, sent as SNI when it is a name). Throws IoError.
  TlsSession(int fd, std::shared_ptr<const TlsClientContext> ctx, const std::string& host);
  // Server side. Throws IoError.
  TlsSession(int fd, std::shared_ptr<const TlsServerContext> ctx);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // One step of the handshake: Want::nothing when it is complete (then, on the client, the
  // server's certificate has been checked). Throws IoError with OpenSSL's reason (e.g.
  // "certificate verify failed: certificate has expired", "... does not match the pinned
  // fingerprint").
  [[nodiscard]] Want handshake_step();
  // Decrypts as many buffered records as fit in `out` (at least one byte, or a want / eof). An
  // error after some bytes were returned is reported by the next call.
  [[nodiscard]] TlsIo read_some(std::span<std::byte> out);
  [[nodiscard]] bool is_client() const noexcept { return client_ != nullptr; }
  // True if OpenSSL holds received bytes not yet returned by read_some (read-ahead may have
  // pulled them off the socket, so poll() would not see them).
  [[nodiscard]] bool has_pending();
  // Encrypts a prefix of `in` into the output buffer (never sends). bytes == 0 with
  // Want::write: the buffer is full, send_buffered() and call again with the same bytes (as
  // OpenSSL requires after a retry; they may have moved).
  [[nodiscard]] TlsIo write_some(std::span<const std::byte> in);
  // IANA name of the negotiated cipher suite ("" before the handshake).
  [[nodiscard]] std::string cipher_name();
  // Ciphertext waiting in the output buffer.
  [[nodiscard]] std::size_t buffered_output();
  // One send() of at most max_bytes buffered bytes: bytes sent, or Want::write when the socket
  // is full. Throws IoError if the connection failed.
  [[nodiscard]] TlsIo send_buffered(std::size_t max_bytes);

  struct BioState;

 private:
  void check_pin();
  [[noreturn]] void fail(int ret, const char* what);

  std::shared_ptr<const void> ctx_owner_;  // keeps the SSL_CTX alive
  const TlsClientContext* client_ = nullptr;
  std::unique_ptr<BioState> bio_;  // the BIO's buffers (owned here, used under mu_)
  ssl_st* ssl_ = nullptr;
  std::exception_ptr read_error_;  // a read failure after bytes were returned (under mu_)
  bool read_eof_ = false;          // the same for an orderly EOF
  std::mutex mu_;
};

}  // namespace pinfer::transport::detail
