#pragma once
// Modular arithmetic for the RNS primes of the HE engine (each p < 2^50).
//
// Multiplication by a fixed operand uses Shoup's precomputed quotient with a 52-bit word so that
// the portable code and the AVX-512 IFMA kernels (52-bit multipliers) follow the same algorithm:
// w' = floor(w * 2^52 / p); for x < 2^52, q = floor(w' * x / 2^52) and r = w*x - q*p lies in
// [0, 2p) (Harvey, "Faster arithmetic for number-theoretic transforms", J. Symb. Comp. 2014, Sec.
// 2).
#include <cstdint>

namespace pinfer::he::detail {

using u128 = unsigned __int128;

inline constexpr unsigned kShoupBits = 52;
inline constexpr uint64_t kMask52 = (uint64_t{1} << 52) - 1;

[[nodiscard]] inline uint64_t mul_mod(uint64_t a, uint64_t b, uint64_t p) noexcept {
  return static_cast<uint64_t>((static_cast<u128>(a) * b) % p);
}

[[nodiscard]] inline uint64_t pow_mod(uint64_t a, uint64_t e, uint64_t p) noexcept {
  uint64_t r = 1 % p;
  a %= p;
  while (e != 0) {
    if (e & 1) r = mul_mod(r, a, p);
    a = mul_mod(a, a, p);
    e >>= 1;
  }
  return r;
}

// Requires: p prime, a != 0 mod p.
[[nodiscard]] inline uint64_t inv_mod(uint64_t a, uint64_t p) noexcept {
  return pow_mod(a, p - 2, p);
}

// floor(w * 2^52 / p). Requires: w < p < 2^50.
[[nodiscard]] inline uint64_t shoup52(uint64_t w, uint64_t p) noexcept {
  return static_cast<uint64_t>((static_cast<u128>(w) << kShoupBits) / p);
}

// w*x mod p in [0, 2p). Requires: x < 2^52, w < p < 2^50, wq = shoup52(w, p).
[[nodiscard]] inline uint64_t mul_shoup_lazy(uint64_t x, uint64_t w, uint64_t wq,
                                             uint64_t p) noexcept {
  const uint64_t q = static_cast<uint64_t>((static_cast<u128>(wq) * x) >> kShoupBits);
  return (w * x - q * p) & kMask52;
}

[[nodiscard]] inline uint64_t reduce_once(uint64_t x, uint64_t p) noexcept {
  return x >= p ? x - p : x;
}

// Barrett-style reduction of a 64-bit value: x mod p. `ratio` = floor(2^64 / p).
[[nodiscard]] inline uint64_t reduce64(uint64_t x, uint64_t p, uint64_t ratio) noexcept {
  const uint64_t q = static_cast<uint64_t>((static_cast<u128>(x) * ratio) >> 64);
  uint64_t r = x - q * p;
  r = reduce_once(r, p);
  return reduce_once(r, p);
}

}  // namespace pinfer::he::detail
