#pragma once
// Minimal 256-bit unsigned integers for composing a ciphertext coefficient from its RNS
// residues (query compression, docs/HE.md section 7). Values here are public (ciphertext data).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "he/mod_arith.hpp"

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

// Streams values of up to 256 bits into a little-endian bit string (LSB first), 64 bits at a
// time: whole words are stored as soon as they are complete, so nothing is written past
// ceil(total bits / 8) bytes.
class BitWriter {
 public:
  explicit BitWriter(std::byte* out) : out_(out) {}
  void put(uint64_t v, unsigned bits) noexcept {  // bits <= 64
    if (bits == 0) return;
    if (bits < 64) v &= (uint64_t{1} << bits) - 1;
    acc_ |= static_cast<u128>(v) << have_;  // have_ < 64, so at most 127 bits
    have_ += bits;
    if (have_ >= 64) {
      const auto word = static_cast<uint64_t>(acc_);
      std::memcpy(out_, &word, 8);
      out_ += 8;
      acc_ >>= 64;
      have_ -= 64;
    }
  }
  void put_wide(const U256& v, unsigned bits) noexcept {
    for (int i = 0; bits > 0; ++i) {
      const unsigned take = bits > 64 ? 64 : bits;
      put(v.w[i], take);
      bits -= take;
    }
  }
  void flush() noexcept {
    while (have_ > 0) {
      *out_++ = static_cast<std::byte>(static_cast<uint8_t>(acc_));
      acc_ >>= 8;
      have_ = have_ > 8 ? have_ - 8 : 0;
    }
    acc_ = 0;
  }

 private:
  std::byte* out_;
  u128 acc_ = 0;
  unsigned have_ = 0;
};

// Reads such a bit string back, 64 bits at a time; reads zeros past the end.
class BitReader {
 public:
  BitReader(const std::byte* in, std::size_t bytes) : in_(in), left_(bytes) {}
  uint64_t get(unsigned bits) noexcept {  // bits <= 64
    if (have_ < bits) {
      uint64_t word = 0;
      const std::size_t take = left_ >= 8 ? 8 : left_;
      std::memcpy(&word, in_, take);
      in_ += take;
      left_ -= take;
      acc_ |= static_cast<u128>(word) << have_;  // have_ < 64
      have_ += 64;                               // past the end the missing bytes read as zeros
    }
    const uint64_t v = bits == 64 ? static_cast<uint64_t>(acc_)
                                  : static_cast<uint64_t>(acc_) & ((uint64_t{1} << bits) - 1);
    acc_ >>= bits;
    have_ -= bits;
    return v;
  }
  U256 get_wide(unsigned bits) noexcept {
    U256 v;
    for (int i = 0; bits > 0; ++i) {
      const unsigned take = bits > 64 ? 64 : bits;
      v.w[i] = get(take);
      bits -= take;
    }
    return v;
  }

 private:
  const std::byte* in_;
  std::size_t left_;
  u128 acc_ = 0;
  unsigned have_ = 0;
};

}  // namespace pinfer::he::detail
