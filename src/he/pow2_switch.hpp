#pragma once
// Modulus switching of the response from Q_L to powers of two, and the client's decryption of
// such ciphertexts (docs/HE.md, "Modulus switching" and "Decryption").
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "he/context_impl.hpp"
#include "he/mod_arith.hpp"
#include "pinfer/he/keys.hpp"

namespace pinfer::he::detail {

// floor(2^(k+64) / p) for k <= 64 (a 64.64 fixed-point 2^k / p).
[[nodiscard]] inline u128 pow2_scale_factor(uint64_t p, unsigned k) noexcept {
  const u128 two64 = static_cast<u128>(1) << 64;
  const u128 hi = two64 / p, rem = two64 % p;
  return (hi << k) + ((rem << k) / p);
}

// x * 2^k / Q_L mod 2^k as a 64.64 fixed-point value (eq. 6: x * 2^k / Q_L = sum_i
// [x_i (Q_L/p_i)^-1]_{p_i} * 2^k / p_i mod 2^k), from the residues limbs[i][j]. The value is
// below the exact one by less than L * 2^-14 (each y_i < 2^50 meets a 2^-64 truncation of 2^k/p_i);
// only the low k bits of the integer part are meaningful.
[[nodiscard]] inline u128 switch_to_pow2_fixed(const ContextImpl& c, std::size_t L,
                                               const uint64_t* const* limbs, std::size_t j,
                                               const u128* f) noexcept {
  const PrefixConstants& pc = c.prefix[L - 1];
  u128 s = 0;
  for (std::size_t i = 0; i < L; ++i) {
    const uint64_t p = c.params.primes[i];
    const uint64_t y =
        reduce_once(mul_shoup_lazy(limbs[i][j], pc.qhat_inv[i], pc.qhat_inv_q[i], p), p);
    s += static_cast<u128>(y) * f[i];
  }
  return s;
}

[[nodiscard]] inline uint64_t low_bits(uint64_t v, unsigned k) noexcept {
  return k == 64 ? v : v & ((uint64_t{1} << k) - 1);
}

// round(x * 2^k / Q_L) mod 2^k: error at most 1/2 + L 2^-14 <= 1/2 + 2^-10 (used for c0).
[[nodiscard]] inline uint64_t switch_to_pow2(const ContextImpl& c, std::size_t L,
                                             const uint64_t* const* limbs, std::size_t j,
                                             const u128* f, unsigned k) noexcept {
  const u128 s = switch_to_pow2_fixed(c, L, limbs, j, f);
  return low_bits(static_cast<uint64_t>((s + (static_cast<u128>(1) << 63)) >> 64), k);
}

// Randomised rounding of x * 2^k / Q_L mod 2^k (used for c1, docs/HE.md section 5): floor(y) + 1
// with probability frac(y) (coin uniform over 64 bits), so the error y' - y is the sum of a
// zero-mean term in (-1, 1) with range length 1, independent per coefficient given x, and a bias
// in (-L 2^-14, 0]. Secret: coin (branch-free).
[[nodiscard]] inline uint64_t switch_to_pow2_randomized(const ContextImpl& c, std::size_t L,
                                                        const uint64_t* const* limbs, std::size_t j,
                                                        const u128* f, unsigned k,
                                                        uint64_t coin) noexcept {
  const u128 s = switch_to_pow2_fixed(c, L, limbs, j, f);
  const auto frac = static_cast<uint64_t>(s);
  const uint64_t up = static_cast<uint64_t>(coin < frac);
  return low_bits(static_cast<uint64_t>(s >> 64) + up, k);
}

// out[j] = (c1 * s)_j mod 2^64 for c1 in [0, 2^b), exactly (CRT over primes 0 and 1, whose
// product exceeds 2 N 2^b). Secret: s (keys), out.
void c1_times_secret(const ContextImpl& c, const ClientKeys& keys, std::span<const uint64_t> c1,
                     std::span<uint64_t> out);

// m = round(t * (c0 / 2^a + (c1 s) / 2^b)) mod t, given prod = c1 * s mod 2^64.
[[nodiscard]] inline uint64_t decode_pow2(uint64_t c0, uint64_t prod, unsigned a, unsigned b,
                                          unsigned l) noexcept {
  const uint64_t b_mask = b == 64 ? ~uint64_t{0} : (uint64_t{1} << b) - 1;
  const uint64_t x = ((c0 << (b - a)) + prod) & b_mask;
  return ((x + (uint64_t{1} << (b - l - 1))) >> (b - l)) & ((uint64_t{1} << l) - 1);
}

}  // namespace pinfer::he::detail
