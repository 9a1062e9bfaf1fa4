#include "transport/openssl_util.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "pinfer/core/error.hpp"

namespace pinfer::transport::detail {

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no details" : out;
}

BioPtr memory_bio(std::string_view text) {
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) throw IoError("BIO_new_mem_buf failed: " + openssl_errors());
  return bio;
}

X509Ptr read_certificate(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace pinfer::transport::detail
