#pragma once
// One TLS 1.3 session over a connected non-blocking socket (private to net): the byte
// transport TcpChannel uses instead of send/recv when the connection is secured. Framing,
// buffering, shaping and timeouts stay in TcpChannel; this class only moves bytes and says
// which socket readiness it waits for.
//
// I/O goes through a BIO of our own that calls send(MSG_NOSIGNAL)/recv on the descriptor, so a
// closed peer is an error, never SIGPIPE.
// Thread safety: OpenSSL does not allow concurrent calls on one SSL object, but TcpChannel
// sends on one thread while it receives on another. Every call into OpenSSL is non-blocking and
// made under mu_, and the waiting (poll) happens outside the lock, so the two directions never
// block each other.
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "pinfer/net/tls_context.hpp"

struct ssl_st;

namespace pinfer::net::detail {

enum class Want { nothing, read, write };

struct TlsIo {
  std::size_t bytes = 0;      // moved by this call
  Want want = Want::nothing;  // bytes == 0: wait for this readiness, then call again
  bool eof = false;           // read: the peer closed the connection
};

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
  // "certificate verify failed: certificate has expired", "fingerprint does not match --pin").
  [[nodiscard]] Want handshake_step();
  [[nodiscard]] TlsIo read_some(std::span<std::byte> out);
  [[nodiscard]] bool is_client() const noexcept { return client_ != nullptr; }
  // True if OpenSSL holds received bytes not yet returned by read_some (read-ahead may have
  // pulled them off the socket, so poll() would not see them).
  [[nodiscard]] bool has_pending();
  [[nodiscard]] TlsIo write_some(std::span<const std::byte> in);

 private:
  void check_pin();
  [[noreturn]] void fail(int ret, const char* what);

  std::shared_ptr<const void> ctx_owner_;  // keeps the SSL_CTX alive
  const TlsClientContext* client_ = nullptr;
  ssl_st* ssl_ = nullptr;
  std::mutex mu_;
};

}  // namespace pinfer::net::detail
