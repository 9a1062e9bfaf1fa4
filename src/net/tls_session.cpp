#include "net/tls_session.hpp"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

#include "net/openssl_util.hpp"
#include "net/socket_util.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::net::detail {
namespace {

int fd_of(BIO* b) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
}

// send() with MSG_NOSIGNAL: OpenSSL's own socket BIO uses write(), which raises SIGPIPE when
// the peer is gone and would kill a server that did not ignore the signal.
int bio_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  for (;;) {
    const ssize_t n = ::send(fd_of(b), data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(b);
    return -1;
  }
}

int bio_read(BIO* b, char* out, int len) {
  BIO_clear_retry_flags(b);
  for (;;) {
    const ssize_t n = ::recv(fd_of(b), out, static_cast<std::size_t>(len), 0);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(b);
    return -1;
  }
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  // Writes go straight to the socket: nothing to flush. Other controls are not supported.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

const BIO_METHOD* socket_method() {
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pinfer socket");
    PINFER_ASSERT(m != nullptr && BIO_meth_set_write(m, bio_write) == 1 &&
                  BIO_meth_set_read(m, bio_read) == 1 && BIO_meth_set_ctrl(m, bio_ctrl) == 1);
    return m;
  }();
  return method;
}

SSL* new_ssl(SSL_CTX* ctx, int fd) {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) throw IoError("TLS: SSL_new failed: " + openssl_errors());
  BIO* bio = BIO_new(socket_method());
  if (bio == nullptr) {
    SSL_free(ssl);
    throw IoError("TLS: BIO_new failed: " + openssl_errors());
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO (once, for both directions)
  return ssl;
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

TlsSession::TlsSession(int fd, std::shared_ptr<const TlsClientContext> ctx, const std::string& host)
    : ctx_owner_(ctx), client_(ctx.get()), ssl_(new_ssl(ctx->native(), fd)) {
  SSL_set_connect_state(ssl_);
  bool ok = true;
  if (is_ip_literal(host)) {
    // RFC 5280 iPAddress SAN (used in CA mode; the pin ignores names).
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str()) == 1;
  } else {
    ok =
        SSL_set_tlsext_host_name(ssl_, host.c_str()) == 1 && SSL_set1_host(ssl_, host.c_str()) == 1;
  }
  if (!ok) {
    SSL_free(ssl_);
    throw IoError("TLS: cannot set the expected server name '" + host + "': " + openssl_errors());
  }
}

TlsSession::TlsSession(int fd, std::shared_ptr<const TlsServerContext> ctx)
    : ctx_owner_(ctx), ssl_(new_ssl(ctx->native(), fd)) {
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
}

void TlsSession::fail(int ret, const char* what) {
  const int err = errno;  // set by the BIO's send/recv for SSL_ERROR_SYSCALL
  const int code = SSL_get_error(ssl_, ret);
  std::string reason = openssl_errors();
  if (code == SSL_ERROR_SYSCALL) {
    reason = err == 0 ? "connection closed by peer" : errno_text(err);
  }
  if (client_ != nullptr && !client_->pin() && SSL_get_verify_result(ssl_) != X509_V_OK) {
    reason = "the server's certificate is not trusted (" +
             std::string(X509_verify_cert_error_string(SSL_get_verify_result(ssl_))) + ")";
  }
  throw IoError(std::string("TLS: ") + what + " failed: " + reason);
}

Want TlsSession::handshake_step() {
  std::lock_guard lock(mu_);
  ERR_clear_error();
  errno = 0;
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    if (client_ != nullptr && client_->pin()) check_pin();
    return Want::nothing;
  }
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      return Want::read;
    case SSL_ERROR_WANT_WRITE:
      return Want::write;
    default:
      fail(r, "handshake");
  }
}

void TlsSession::check_pin() {
  // Secret: nothing (fingerprints are public); constant time anyway, as the brief asks of pin
  // comparisons, so the check never depends on where the digests differ.
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr) throw IoError("TLS: the server presented no certificate");
  CertificateFingerprint got{};
  unsigned int len = 0;
  PINFER_ASSERT(
      X509_digest(peer, EVP_sha256(), reinterpret_cast<unsigned char*>(got.data()), &len) == 1 &&
      len == kFingerprintBytes);
  const CertificateFingerprint& want = *client_->pin();
  if (CRYPTO_memcmp(got.data(), want.data(), kFingerprintBytes) != 0) {
    throw IoError("TLS: the server's certificate fingerprint " + to_hex(got) +
                  " does not match --pin " + to_hex(want) +
                  " (wrong server, a replaced certificate, or an attacker in between)");
  }
}

bool TlsSession::has_pending() {
  std::lock_guard lock(mu_);
  return SSL_has_pending(ssl_) == 1;
}

TlsIo TlsSession::read_some(std::span<std::byte> out) {
  std::lock_guard lock(mu_);
  ERR_clear_error();
  errno = 0;
  std::size_t n = 0;
  const int r = SSL_read_ex(ssl_, out.data(), out.size(), &n);
  if (r == 1) return {n, Want::nothing, false};
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      return {0, Want::read, false};
    case SSL_ERROR_WANT_WRITE:
      return {0, Want::write, false};
    case SSL_ERROR_ZERO_RETURN:
      return {0, Want::nothing, true};
    default:
      fail(r, "receive");
  }
}

TlsIo TlsSession::write_some(std::span<const std::byte> in) {
  std::lock_guard lock(mu_);
  ERR_clear_error();
  errno = 0;
  std::size_t n = 0;
  const int r = SSL_write_ex(ssl_, in.data(), in.size(), &n);
  if (r == 1) return {n, Want::nothing, false};
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      return {0, Want::read, false};
    case SSL_ERROR_WANT_WRITE:
      return {0, Want::write, false};
    default:
      fail(r, "send");
  }
}

}  // namespace pinfer::net::detail
