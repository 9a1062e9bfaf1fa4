#pragma once
// NTT and dyadic (pointwise) kernels, one set per CPU path. Declared here, defined in ntt.cpp
// (portable) and ntt_ifma.cpp (AVX-512 IFMA; compiled with -mavx512ifma only in that file).
#include <cstddef>
#include <cstdint>

#include "pinfer/he/ntt.hpp"

namespace pinfer::he::detail {

void ntt_forward_portable(const NttTables::Data& d, uint64_t* a) noexcept;
void ntt_inverse_portable(const NttTables::Data& d, uint64_t* a) noexcept;
void ntt_forward_ifma(const NttTables::Data& d, uint64_t* a) noexcept;
void ntt_inverse_ifma(const NttTables::Data& d, uint64_t* a) noexcept;

// Barrett constants for a general product mod p (p < 2^50): x = a*b < p^2,
// c = floor(x / 2^(bits-1)), q = floor(c * mu / 2^52) with mu = floor(2^(bits-1+52) / p);
// x - q*p lies in [0, 3p).
struct Barrett52 {
  uint64_t p = 0;
  unsigned bits = 0;  // bit length of p
  uint64_t mu = 0;
};
[[nodiscard]] Barrett52 make_barrett52(uint64_t p) noexcept;

// acc[i] = (acc[i] + a[i] * b[i]) mod p for i < n. Requires: all inputs < p.
void dyadic_mac_portable(const Barrett52& m, uint64_t* acc, const uint64_t* a, const uint64_t* b,
                         std::size_t n) noexcept;
void dyadic_mac_ifma(const Barrett52& m, uint64_t* acc, const uint64_t* a, const uint64_t* b,
                     std::size_t n) noexcept;
// out[i] = a[i] * b[i] mod p.
void dyadic_mul_portable(const Barrett52& m, uint64_t* out, const uint64_t* a, const uint64_t* b,
                         std::size_t n) noexcept;
void dyadic_mul_ifma(const Barrett52& m, uint64_t* out, const uint64_t* a, const uint64_t* b,
                     std::size_t n) noexcept;

}  // namespace pinfer::he::detail
