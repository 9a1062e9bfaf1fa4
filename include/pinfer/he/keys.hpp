#pragma once
// Client keys of the BFV-style scheme: a uniform ternary secret s and the public key
// pk = (b, a) = (-a*s + e, a) with a expanded from a 128-bit seed (only the seed and b are sent).
//
// The secret key lives in SecretBuffers (wiped on destruction). The public key is what the
// server needs for re-randomizing responses (a fresh encryption of zero, circuit privacy).
// Thread safety: both types are immutable after construction.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pinfer/core/block.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/secret_buffer.hpp"
#include "pinfer/he/context.hpp"

namespace pinfer::he {

class PublicKey {
 public:
  // Wire form: magic, version, N, limb count, seed, b (bit-packed per limb).
  [[nodiscard]] std::vector<std::byte> serialize() const;
  // Throws FormatError on a malformed, truncated or mismatching key (checked before allocating).
  [[nodiscard]] static PublicKey deserialize(const Context& ctx, std::span<const std::byte> bytes);

  // NTT form, limb-major (limb i at [i*N, (i+1)*N)), all limbs of the context.
  [[nodiscard]] std::span<const uint64_t> b_ntt() const noexcept { return b_ntt_; }
  [[nodiscard]] std::span<const uint64_t> a_ntt() const noexcept { return a_ntt_; }
  [[nodiscard]] std::size_t n() const noexcept { return n_; }

 private:
  friend class ClientKeys;
  PublicKey() = default;
  void expand_a(const Context& ctx);
  std::size_t n_ = 0;
  std::size_t limbs_ = 0;
  Block seed_;
  std::vector<uint64_t> b_ntt_;
  std::vector<uint64_t> a_ntt_;
};

class ClientKeys {
 public:
  // Secret: the PRG state. Samples s (uniform ternary) and the public key's error from `prg`,
  // which must be OS-seeded (Prg()) outside tests.
  ClientKeys(const Context& ctx, Prg& prg);

  [[nodiscard]] const PublicKey& public_key() const noexcept { return pk_; }
  // Secret key in NTT form, limb-major over all limbs of the context.
  [[nodiscard]] std::span<const uint64_t> secret_ntt() const noexcept { return s_ntt_.span(); }
  // Secret key coefficients in {-1, 0, 1}.
  [[nodiscard]] std::span<const int8_t> secret_coeffs() const noexcept { return s_.span(); }

 private:
  SecretBuffer<int8_t> s_;
  SecretBuffer<uint64_t> s_ntt_;
  PublicKey pk_;
};

}  // namespace pinfer::he
