#pragma once
// AES-128 encryption (ECB batches and CTR keystream) with runtime-selected kernels.
//
// Paths: `vaes` (AVX-512 VAES, 4 blocks per register, 16 in flight), `aesni` (8 blocks in
// flight), `openssl` (OpenSSL EVP, runs on any CPU and uses AES-NI itself where present). All paths
// give identical output; the default is chosen once by preferred_cpu_path() after a known-answer
// self-test. Thread safety: an Aes128 is immutable after construction and may be shared between
// threads.
#include <array>
#include <cstdint>
#include <span>

#include "pinfer/core/block.hpp"
#include "pinfer/core/detail/cpu_features.hpp"

namespace pinfer {

// The 11 round keys of AES-128 encryption, in FIPS-197 order.
struct AesRoundKeys {
  std::array<Block, 11> k;
};

class Aes128 {
 public:
  // Secret: `key`. Expands the key schedule.
  explicit Aes128(const Block& key) noexcept;
  ~Aes128();
  Aes128(const Aes128&) = default;
  Aes128& operator=(const Aes128&) = default;

  // out[i] = AES_k(in[i]). Requires: in.size() == out.size() (in and out may alias).
  void encrypt_ecb(std::span<const Block> in, std::span<Block> out) const noexcept;
  void encrypt_ecb_with(CpuPath path, std::span<const Block> in,
                        std::span<Block> out) const noexcept;

  // out[i] = AES_k(Block(counter + i, nonce)): counter-mode keystream.
  void ctr_keystream(uint64_t counter, uint64_t nonce, std::span<Block> out) const noexcept;
  void ctr_keystream_with(CpuPath path, uint64_t counter, uint64_t nonce,
                          std::span<Block> out) const noexcept;

  [[nodiscard]] const AesRoundKeys& round_keys() const noexcept { return rk_; }
  [[nodiscard]] const Block& key() const noexcept { return key_; }

 private:
  Block key_;
  AesRoundKeys rk_;
};

// The path Aes128::encrypt_ecb uses by default (after its self-test passed).
[[nodiscard]] CpuPath aes_active_path();

}  // namespace pinfer
