#include "pinfer/core/sha256.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/hex.hpp"

namespace pinfer {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

}  // namespace

Sha256Digest sha256(std::span<const std::byte> data) {
  Sha256Digest md{};
  unsigned int len = 0;
  PINFER_ASSERT(EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(md.data()),
                           &len, EVP_sha256(), nullptr) == 1 &&
                len == kSha256Bytes);
  return md;
}

Sha256Digest sha256(std::string_view text) {
  return sha256(bytes_of(text));
}

std::string sha256_hex(std::span<const std::byte> data) {
  return to_hex(sha256(data));
}

std::string sha256_hex(std::string_view text) {
  return sha256_hex(bytes_of(text));
}

std::string sha256_file_hex(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path.string());
  const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  PINFER_ASSERT(ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  std::vector<char> buf(std::size_t{1} << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) {
      PINFER_ASSERT(
          EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount())) == 1);
    }
  }
  if (!in.eof()) throw IoError("read error on " + path.string());
  Sha256Digest md{};
  unsigned int len = 0;
  PINFER_ASSERT(EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(md.data()), &len) ==
                    1 &&
                len == kSha256Bytes);
  return to_hex(md);
}

}  // namespace pinfer
