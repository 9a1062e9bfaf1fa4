#pragma once
// X.509 certificates for pinfer servers, made with OpenSSL's EVP APIs: the self-signed
// certificate `pinfer serve` generates when given no --cert/--key, the ephemeral one of
// `pinfer demo`, and CA-signed / expired / misnamed ones for tests.
// Keys are ECDSA P-256 (FIPS 186-4; 128-bit security), signatures ECDSA with SHA-256.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pinfer/core/secret_buffer.hpp"

namespace pinfer::transport {

struct PemCertificate {
  std::string cert_pem;
  SecretBuffer<char> key_pem;  // the private key (PKCS#8 PEM, unencrypted): secret
};

struct CertificateSpec {
  std::string common_name = "pinfer-server";
  // subjectAltName entries the client's host-name check matches (when it trusts a CA).
  std::vector<std::string> dns_names = {"localhost"};
  std::vector<std::string> ip_addresses = {"127.0.0.1", "::1"};
  // Validity relative to now, in seconds (negative: in the past).
  int64_t not_before_s = -3600;  // an hour back, for clocks slightly behind
  int64_t not_after_s = int64_t{3650} * 86400;
  bool is_ca = false;  // basicConstraints CA:TRUE and keyCertSign
};

// A fresh key pair and certificate for `spec`, self-signed or signed by `issuer` (a CA made by
// this function). Throws IoError if OpenSSL fails (e.g. a malformed IP address in the spec:
// InvalidArgument).
[[nodiscard]] PemCertificate make_certificate(const CertificateSpec& spec,
                                              const PemCertificate* issuer = nullptr);

// Writes the certificate and the key (both mode 0600: they live in the private store folder)
// atomically. Throws IoError.
void write_pem_files(const PemCertificate& cert, const std::filesystem::path& cert_file,
                     const std::filesystem::path& key_file);

// The server's certificate in `dir` (dir/TLS_CERT.pem, dir/TLS_KEY.pem): read if both exist,
// else generated once (self-signed, spec defaults plus `extra_names` as DNS or IP SANs) and
// written. `created` tells which. Throws IoError, or InvalidArgument if only one file exists.
struct ServerCertificateFiles {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  bool created = false;
};
[[nodiscard]] ServerCertificateFiles ensure_server_certificate(
    const std::filesystem::path& dir, const std::vector<std::string>& extra_names = {});

}  // namespace pinfer::transport
