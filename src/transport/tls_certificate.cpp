#include "pinfer/transport/tls_certificate.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/private_files.hpp"
#include "transport/openssl_util.hpp"
#include "transport/socket_util.hpp"

namespace pinfer::transport {
namespace {

using detail::openssl_errors;

[[noreturn]] void fail(const std::string& what) {
  throw IoError("TLS certificate: " + what + ": " + openssl_errors());
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) fail("extension " + std::string(OBJ_nid2sn(nid)) + " = " + value);
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) fail("adding extension " + std::string(OBJ_nid2sn(nid)));
}

std::string pem_of(X509* cert) {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("PEM encoding");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

SecretBuffer<char> pem_of(EVP_PKEY* key) {
  detail::BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("PEM encoding of the key");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  SecretBuffer<char> out(static_cast<std::size_t>(n));
  std::copy(data, data + n, out.begin());
  return out;  // the secure-heap BIO wipes its copy when freed
}

}  // namespace

PemCertificate make_certificate(const CertificateSpec& spec, const PemCertificate* issuer) {
  ERR_clear_error();
  for (const std::string& ip : spec.ip_addresses) {
    if (!is_ip_literal(ip)) throw InvalidArgument("'" + ip + "' is not an IP address");
  }
  detail::PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail("ECDSA P-256 key generation");
  detail::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) fail("X509_new");

  // A random positive 127-bit serial (RFC 5280 4.1.2.2: unique per issuer, at most 20 bytes).
  std::byte serial_bytes[16];
  os_random_bytes(serial_bytes);
  serial_bytes[0] &= std::byte{0x7f};
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial_bytes), 16, nullptr);
  const bool serial_ok =
      bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  if (!serial_ok) fail("serial number");

  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(spec.not_before_s)) ==
          nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(spec.not_after_s)) ==
          nullptr) {
    fail("validity");
  }
  if (X509_set_pubkey(cert.get(), key.get()) != 1) fail("public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                                 -1, -1, 0) != 1) {
    fail("subject name");
  }

  detail::X509Ptr issuer_cert;
  detail::PkeyPtr issuer_key;
  if (issuer != nullptr) {
    issuer_cert = detail::read_certificate(issuer->cert_pem);
    detail::BioPtr kb =
        detail::memory_bio(std::string_view(issuer->key_pem.data(), issuer->key_pem.size()));
    issuer_key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    if (!issuer_cert || !issuer_key) fail("reading the issuer");
  }
  X509* signer_cert = issuer_cert ? issuer_cert.get() : cert.get();
  EVP_PKEY* signer_key = issuer_key ? issuer_key.get() : key.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer_cert)) != 1) {
    fail("issuer name");
  }

  add_extension(cert.get(), signer_cert, NID_basic_constraints,
                spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_extension(cert.get(), signer_cert, NID_key_usage,
                spec.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  if (!spec.is_ca) add_extension(cert.get(), signer_cert, NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), signer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    add_extension(cert.get(), signer_cert, NID_authority_key_identifier, "keyid:always");
  }
  std::string san;
  for (const std::string& d : spec.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const std::string& ip : spec.ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  if (!san.empty()) add_extension(cert.get(), signer_cert, NID_subject_alt_name, san);

  if (X509_sign(cert.get(), signer_key, EVP_sha256()) <= 0) fail("signing");
  return PemCertificate{pem_of(cert.get()), pem_of(key.get())};
}

void write_pem_files(const PemCertificate& cert, const std::filesystem::path& cert_file,
                     const std::filesystem::path& key_file) {
  write_file_atomically(key_file, std::string_view(cert.key_pem.data(), cert.key_pem.size()),
                        kPrivateFileMode);
  // The certificate is public, but it sits in the store folder, whose files are all private
  // (clients get its fingerprint, not the file): 0600 like the rest.
  write_file_atomically(cert_file, cert.cert_pem, kPrivateFileMode);
}

ServerCertificateFiles ensure_server_certificate(const std::filesystem::path& dir,
                                                 const std::vector<std::string>& extra_names) {
  ServerCertificateFiles files{dir / "TLS_CERT.pem", dir / "TLS_KEY.pem", false};
  std::error_code ec;
  const bool have_cert = std::filesystem::exists(files.cert_file, ec);
  const bool have_key = std::filesystem::exists(files.key_file, ec);
  if (have_cert && have_key) return files;
  if (have_cert != have_key) {
    throw InvalidArgument("only one of " + files.cert_file.string() + " and " +
                          files.key_file.string() +
                          " exists; restore the other or delete both to generate a new pair");
  }
  CertificateSpec spec;
  for (const std::string& n : extra_names) {
    if (n.empty() || n == "0.0.0.0" || n == "::") continue;  // wildcard binds name nothing
    auto& list = is_ip_literal(n) ? spec.ip_addresses : spec.dns_names;
    if (std::find(list.begin(), list.end(), n) == list.end()) list.push_back(n);
  }
  const PemCertificate made = make_certificate(spec);
  // The key first: a crash in between leaves only the key, which the check above reports.
  write_pem_files(made, files.cert_file, files.key_file);
  files.created = true;
  return files;
}

}  // namespace pinfer::transport
