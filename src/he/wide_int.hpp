#pragma once
// Minimal 256-bit unsigned integers for composing a ciphertext coefficient from its RNS
// residues (query compression, docs/HE.md section 7). Values here are public (ciphertext data).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "he/mod_arith.hpp"
#include "pinfer/core/bit_packing.hpp"

namespace pinfer::he::detail {

struct U256 {
  uint64_t w[4] = {0, 0, 0, 0};
};

inline U256 u256_mul_u64(const U256& a, uint64_t b) noexcept {
  U256 r;
  u128 carry = 0;
  for (int i = 0; i < 4; ++i) {
    const u128 t = static_cast<u128>(a.w[i]) * b + carry;
    r.w[i] = static_cast<uint64_t>(t);
    carry = t >> 64;
  }
  return r;
}

inline U256 u256_add(const U256& a, const U256& b) noexcept {
  U256 r;
  u128 carry = 0;
  for (int i = 0; i < 4; ++i) {
    const u128 t = static_cast<u128>(a.w[i]) + b.w[i] + carry;
    r.w[i] = static_cast<uint64_t>(t);
    carry = t >> 64;
  }
  return r;
}

inline U256 u256_sub(const U256& a, const U256& b) noexcept {
  U256 r;
  uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) {
    const uint64_t t = a.w[i] - b.w[i];
    const uint64_t b1 = a.w[i] < b.w[i];
    r.w[i] = t - borrow;
    const uint64_t b2 = t < borrow;
    borrow = b1 | b2;
  }
  return r;
}

inline bool u256_less(const U256& a, const U256& b) noexcept {
  for (int i = 3; i >= 0; --i) {
    if (a.w[i] != b.w[i]) return a.w[i] < b.w[i];
  }
  return false;
}

// a >> k for k < 64.
inline U256 u256_shr(const U256& a, unsigned k) noexcept {
  if (k == 0) return a;
  U256 r;
  for (int i = 0; i < 4; ++i) {
    r.w[i] = (a.w[i] >> k) | (i < 3 ? a.w[i + 1] << (64 - k) : 0);
  }
  return r;
}

inline unsigned u256_bitlen(const U256& a) noexcept {
  for (int i = 3; i >= 0; --i) {
    if (a.w[i] != 0) return static_cast<unsigned>(64 * i + 64 - __builtin_clzll(a.w[i]));
  }
  return 0;
}

// Values of up to 256 bits through core's bit strings (pinfer/core/bit_packing.hpp), 64 bits at
// a time, low word first.
inline void put_wide(BitWriter& w, const U256& v, unsigned bits) noexcept {
  for (int i = 0; bits > 0; ++i) {
    const unsigned take = bits > 64 ? 64 : bits;
    w.put(v.w[i], take);
    bits -= take;
  }
}
[[nodiscard]] inline U256 get_wide(BitReader& r, unsigned bits) noexcept {
  U256 v;
  for (int i = 0; bits > 0; ++i) {
    const unsigned take = bits > 64 ? 64 : bits;
    v.w[i] = r.get(take);
    bits -= take;
  }
  return v;
}

}  // namespace pinfer::he::detail
