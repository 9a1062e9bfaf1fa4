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

// round(x * 2^k / Q_L) mod 2^k, within 1 of the exact value, from the residues limbs[i][j]
// (eq. 6: x * 2^k / Q_L = sum_i [x_i (Q_L/p_i)^-1]_{p_i} * 2^k / p_i mod 2^k).
[[nodiscard]] inline uint64_t switch_to_pow2(const ContextImpl& c, std::size_t L,
                                             const uint64_t* const* limbs, std::size_t j,
                                             const u128* f, unsigned k) noexcept {
  const PrefixConstants& pc = c.prefix[L - 1];
  u128 s = 0;
  for (std::size_t i = 0; i < L; ++i) {
    const uint64_t p = c.params.primes[i];
    const uint64_t y =
        reduce_once(mul_shoup_lazy(limbs[i][j], pc.qhat_inv[i], pc.qhat_inv_q[i], p), p);
    s += static_cast<u128>(y) * f[i];
  }
  const uint64_t r = static_cast<uint64_t>((s + (static_cast<u128>(1) << 63)) >> 64);
  return k == 64 ? r : r & ((uint64_t{1} << k) - 1);
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
