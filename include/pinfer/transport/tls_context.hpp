#pragma once
// TLS 1.3 settings of one side of pinfer connections (OpenSSL 3). Immutable after creation and
// shared by every connection of that side (thread safe).
//
//  - Only TLS 1.3 is offered or accepted (RFC 8446); cipher suites AES-128-GCM (preferred:
//    128-bit security is the target, and it is the fastest here), AES-256-GCM and
//    ChaCha20-Poly1305, all AEADs with forward secrecy; the server's order decides.
//  - The server presents a certificate and key (PEM files, or generated: tls_certificate.hpp).
//  - The client checks the server one of two ways: a CA file (standard X.509 chain validation
//    plus the host name or IP address the client connected to) or a pinned SHA-256 fingerprint
//    of the server's DER certificate (compared in constant time; chain and names ignored: the
//    pin is the trust decision). There is no trust-on-first-use.
// Errors: InvalidArgument for a malformed pin, IoError when a file cannot be read or is not
// a certificate / key / matching pair.
#include <array>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pinfer/core/hex.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of the public header

namespace pinfer::transport {

inline constexpr std::size_t kFingerprintBytes = 32;  // SHA-256
using CertificateFingerprint = std::array<std::byte, kFingerprintBytes>;

// Lowercase hex, 64 digits (how `pinfer serve` prints it and clients pin it): core's to_hex.
using pinfer::to_hex;
// Parses 64 hex digits, optionally separated by ':' (as `openssl x509 -fingerprint` prints).
// Throws InvalidArgument naming the problem.
[[nodiscard]] CertificateFingerprint parse_fingerprint(std::string_view text);
// SHA-256 of the DER encoding of the (first) certificate in `cert_pem`. Throws IoError if the
// text holds no certificate.
[[nodiscard]] CertificateFingerprint certificate_fingerprint(std::string_view cert_pem);

class TlsServerContext {
 public:
  // Certificate (chain) and private key in PEM. Throws IoError if unreadable, malformed or
  // not a matching pair.
  [[nodiscard]] static std::shared_ptr<const TlsServerContext> from_pem_files(
      const std::filesystem::path& cert_file, const std::filesystem::path& key_file);
  [[nodiscard]] static std::shared_ptr<const TlsServerContext> from_pem(
      std::string_view cert_pem, std::span<const char> key_pem);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // What clients pin (TlsClientContext::pinned).
  [[nodiscard]] const CertificateFingerprint& fingerprint() const noexcept { return fingerprint_; }
  [[nodiscard]] ssl_ctx_st* native() const noexcept { return ctx_; }

 private:
  TlsServerContext(ssl_ctx_st* ctx, const CertificateFingerprint& fingerprint);
  ssl_ctx_st* ctx_;
  CertificateFingerprint fingerprint_;
};

class TlsClientContext {
 public:
  // Trusts servers whose certificate chains to a certificate in `ca_file` (PEM) and names the
  // host the client connects to (DNS name or IP address, RFC 6125 / RFC 5280 SAN).
  [[nodiscard]] static std::shared_ptr<const TlsClientContext> trusting_ca_file(
      const std::filesystem::path& ca_file);
  // Trusts exactly the server certificate with this fingerprint.
  [[nodiscard]] static std::shared_ptr<const TlsClientContext> pinned(
      const CertificateFingerprint& fingerprint);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  // The pin, if this context pins instead of validating a chain.
  [[nodiscard]] const std::optional<CertificateFingerprint>& pin() const noexcept { return pin_; }
  [[nodiscard]] ssl_ctx_st* native() const noexcept { return ctx_; }

 private:
  TlsClientContext(ssl_ctx_st* ctx, std::optional<CertificateFingerprint> pin);
  ssl_ctx_st* ctx_;
  std::optional<CertificateFingerprint> pin_;
};

}  // namespace pinfer::transport
