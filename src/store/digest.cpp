#include "digest.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <vector>

#include "pinfer/core/error.hpp"

namespace pinfer::store::detail {

std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(2 * bytes.size(), '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    s[2 * i] = kDigits[bytes[i] >> 4];
    s[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return s;
}

std::string sha256_hex(std::span<const std::byte> data) {
  unsigned char md[32];
  unsigned int len = 0;
  PINFER_ASSERT(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) == 1);
  return to_hex(md);
}

std::string sha256_file_hex(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path.string());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  PINFER_ASSERT(ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  const bool read_ok = in.eof();
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  if (!read_ok) throw IoError("read error on " + path.string());
  return to_hex(md);
}

}  // namespace pinfer::store::detail
