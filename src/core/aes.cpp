#include "pinfer/core/aes.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <vector>

#include "aes_kernels.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"

namespace pinfer {
namespace detail {
namespace {

// FIPS-197 S-box, used only by the portable key expansion (once per key).
constexpr uint8_t kSbox[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16};

}  // namespace

void aes_expand_portable(const Block& key, AesRoundKeys& rk) noexcept {
  uint8_t w[176];
  std::memcpy(w, &key, 16);
  uint8_t rcon = 1;
  for (int i = 16; i < 176; i += 4) {
    uint8_t t[4] = {w[i - 4], w[i - 3], w[i - 2], w[i - 1]};
    if (i % 16 == 0) {
      const uint8_t t0 = t[0];
      t[0] = static_cast<uint8_t>(kSbox[t[1]] ^ rcon);
      t[1] = kSbox[t[2]];
      t[2] = kSbox[t[3]];
      t[3] = kSbox[t0];
      rcon = static_cast<uint8_t>((rcon << 1) ^ ((rcon & 0x80) ? 0x1b : 0));
    }
    for (int j = 0; j < 4; ++j) w[i + j] = static_cast<uint8_t>(w[i - 16 + j] ^ t[j]);
  }
  std::memcpy(rk.k.data(), w, 176);
  secure_wipe(w, sizeof w);
}

// The openssl path delegates to OpenSSL, which runs on every CPU (with AES-NI where present;
// its generic code is hardened against cache timing); a context per call keeps Aes128 immutable and
// shareable.
void aes_ecb_openssl(const Block& key, const Block* in, Block* out, std::size_t n) noexcept {
  if (n == 0) return;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  PINFER_ASSERT(ctx != nullptr);
  PINFER_ASSERT(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr,
                                   reinterpret_cast<const unsigned char*>(&key), nullptr) == 1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  constexpr std::size_t kChunk = 1 << 20;  // blocks; keeps lengths within int
  for (std::size_t done = 0; done < n; done += kChunk) {
    const std::size_t m = std::min(kChunk, n - done);
    int len = 0;
    PINFER_ASSERT(EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out + done), &len,
                                    reinterpret_cast<const unsigned char*>(in + done),
                                    static_cast<int>(m * 16)) == 1);
  }
  EVP_CIPHER_CTX_free(ctx);
}

void aes_ctr_openssl(const Block& key, uint64_t counter, uint64_t nonce, Block* out,
                     std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = Block(counter + i, nonce);
  aes_ecb_openssl(key, out, out, n);
}

}  // namespace detail

namespace {

// Known-answer test (FIPS-197 Appendix C.1) of a fast path before it is trusted.
bool self_test(CpuPath path) {
  Block key, pt, expect;
  const uint8_t k[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const uint8_t p[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                         0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  const uint8_t c[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                         0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
  std::memcpy(&key, k, 16);
  std::memcpy(&pt, p, 16);
  std::memcpy(&expect, c, 16);
  const Aes128 aes(key);
  std::vector<Block> in(37, pt), out(37);
  aes.encrypt_ecb_with(path, in, out);
  for (const Block& b : out) {
    if (!(b == expect)) return false;
  }
  return true;
}

CpuPath choose_path() {
  for (CpuPath p = preferred_cpu_path(); p != CpuPath::openssl;
       p = static_cast<CpuPath>(static_cast<int>(p) - 1)) {
    if (cpu_supports(p) && self_test(p)) return p;
  }
  return CpuPath::openssl;
}

}  // namespace

CpuPath aes_active_path() {
  static const CpuPath path = choose_path();
  return path;
}

Aes128::Aes128(const Block& key) noexcept : key_(key) {
  if (cpu_supports(CpuPath::aesni)) {
    detail::aes_expand_aesni(key, rk_);
  } else {
    detail::aes_expand_portable(key, rk_);
  }
}

Aes128::~Aes128() {
  secure_wipe(&key_, sizeof key_);
  secure_wipe(&rk_, sizeof rk_);
}

void Aes128::encrypt_ecb(std::span<const Block> in, std::span<Block> out) const noexcept {
  encrypt_ecb_with(aes_active_path(), in, out);
}

void Aes128::encrypt_ecb_with(CpuPath path, std::span<const Block> in,
                              std::span<Block> out) const noexcept {
  PINFER_ASSERT(in.size() == out.size());
  PINFER_ASSERT(cpu_supports(path));
  switch (path) {
    case CpuPath::vaes:
      detail::aes_ecb_vaes(rk_, in.data(), out.data(), in.size());
      return;
    case CpuPath::aesni:
      detail::aes_ecb_aesni(rk_, in.data(), out.data(), in.size());
      return;
    case CpuPath::openssl:
      detail::aes_ecb_openssl(key_, in.data(), out.data(), in.size());
      return;
  }
}

void Aes128::ctr_keystream(uint64_t counter, uint64_t nonce, std::span<Block> out) const noexcept {
  ctr_keystream_with(aes_active_path(), counter, nonce, out);
}

void Aes128::ctr_keystream_with(CpuPath path, uint64_t counter, uint64_t nonce,
                                std::span<Block> out) const noexcept {
  PINFER_ASSERT(cpu_supports(path));
  switch (path) {
    case CpuPath::vaes:
      detail::aes_ctr_vaes(rk_, counter, nonce, out.data(), out.size());
      return;
    case CpuPath::aesni:
      detail::aes_ctr_aesni(rk_, counter, nonce, out.data(), out.size());
      return;
    case CpuPath::openssl:
      detail::aes_ctr_openssl(key_, counter, nonce, out.data(), out.size());
      return;
  }
}

}  // namespace pinfer
