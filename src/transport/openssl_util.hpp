#pragma once
// OpenSSL helpers private to transport: owning pointers and error text.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

namespace pinfer::transport::detail {

template <auto Free>
struct OpensslDeleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, OpensslDeleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OpensslDeleter<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslDeleter<EVP_PKEY_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpensslDeleter<SSL_CTX_free>>;

// Drains this thread's OpenSSL error queue into one line ("no details" if it is empty).
[[nodiscard]] std::string openssl_errors();

// A read-only memory BIO over `text` (which must outlive it).
[[nodiscard]] BioPtr memory_bio(std::string_view text);

// The first certificate in PEM text, or null.
[[nodiscard]] X509Ptr read_certificate(std::string_view pem);

}  // namespace pinfer::transport::detail
