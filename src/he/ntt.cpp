#include "pinfer/he/ntt.hpp"

#include <string>

#include "he/mod_arith.hpp"
#include "he/ntt_kernels.hpp"
#include "pinfer/core/detail/cpu_features.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::he {
namespace {

using detail::inv_mod;
using detail::mul_mod;
using detail::mul_shoup_lazy;
using detail::pow_mod;
using detail::shoup52;

bool is_prime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t q : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    if (n % q == 0) return n == q;
  }
  uint64_t d = n - 1;
  unsigned s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  // Deterministic Miller-Rabin for all 64-bit n with these bases (Sorenson and Webster 2015).
  for (uint64_t a : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    uint64_t x = pow_mod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (unsigned r = 1; r < s; ++r) {
      x = mul_mod(x, x, n);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

uint64_t bit_reverse(uint64_t x, unsigned bits) {
  uint64_t r = 0;
  for (unsigned i = 0; i < bits; ++i) r |= ((x >> i) & 1) << (bits - 1 - i);
  return r;
}

// The smallest generator-derived primitive 2n-th root of unity: deterministic, so both parties
// (and every run) agree on the evaluation order of NTT-form data that crosses the wire.
uint64_t primitive_root_2n(uint64_t p, uint64_t n) {
  for (uint64_t g = 2; g < p; ++g) {
    const uint64_t psi = pow_mod(g, (p - 1) / (2 * n), p);
    if (pow_mod(psi, n, p) == p - 1) return psi;
  }
  return 0;
}

bool ifma_self_test();

NttPath choose_path() {
  if (preferred_cpu_path() == CpuPath::vaes && ntt_path_supported(NttPath::ifma) &&
      ifma_self_test()) {
    return NttPath::ifma;
  }
  return NttPath::portable;
}

bool ifma_self_test() {
  const NttTables t(64, 1125899906826241ull);  // 2^50 - 2^14*... a 50-bit prime = 1 mod 128
  std::vector<uint64_t> a(64), b(64);
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = b[i] = (i * 0x9E3779B97F4A7C15ull) % t.modulus();
  detail::ntt_forward_portable(t.data(), a.data());
  detail::ntt_forward_ifma(t.data(), b.data());
  if (a != b) return false;
  detail::ntt_inverse_portable(t.data(), a.data());
  detail::ntt_inverse_ifma(t.data(), b.data());
  return a == b;
}

}  // namespace

std::string_view to_string(NttPath path) {
  return path == NttPath::ifma ? "ifma" : "portable";
}

bool ntt_path_supported(NttPath path) {
  if (path == NttPath::portable) return true;
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.avx512ifma && f.avx512vl && f.avx512dq && f.avx512bw;
}

NttPath ntt_active_path() {
  static const NttPath path = choose_path();
  return path;
}

NttTables::NttTables(std::size_t n, uint64_t p) : n_(n), p_(p) {
  if (n < 16 || n > 32768 || (n & (n - 1)) != 0) {
    throw InvalidArgument("NTT size " + std::to_string(n) +
                          " is not a power of two in [16, 32768]");
  }
  if (p >= (uint64_t{1} << 50) || !is_prime(p) || (p - 1) % (2 * n) != 0) {
    throw InvalidArgument(
        "NTT modulus " + std::to_string(p) +
        " is not a prime below 2^50 congruent to 1 mod 2N = " + std::to_string(2 * n));
  }
  d_.n = n;
  d_.p = p;
  while ((std::size_t{1} << d_.log_n) < n) ++d_.log_n;
  const uint64_t psi = primitive_root_2n(p, n);
  const uint64_t psi_inv = inv_mod(psi, p);
  d_.roots.resize(n);
  d_.roots_q.resize(n);
  d_.inv_roots.resize(n);
  d_.inv_roots_q.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    const uint64_t e = bit_reverse(k, d_.log_n);
    d_.roots[k] = pow_mod(psi, e, p);
    d_.inv_roots[k] = pow_mod(psi_inv, e, p);
    d_.roots_q[k] = shoup52(d_.roots[k], p);
    d_.inv_roots_q[k] = shoup52(d_.inv_roots[k], p);
  }
  d_.n_inv = inv_mod(n % p, p);
  d_.n_inv_q = shoup52(d_.n_inv, p);
  d_.last_w_ninv = mul_mod(d_.inv_roots[1], d_.n_inv, p);
  d_.last_w_ninv_q = shoup52(d_.last_w_ninv, p);
  for (unsigned s = 0; s < 3; ++s) {
    const std::size_t t = std::size_t{1} << s;
    const std::size_t m = n / (2 * t);
    const std::size_t lanes = n / 2;
    d_.fwd_lane[s].resize(lanes);
    d_.fwd_lane_q[s].resize(lanes);
    d_.inv_lane[s].resize(lanes);
    d_.inv_lane_q[s].resize(lanes);
    for (std::size_t k = 0; k < lanes; ++k) {
      const std::size_t block = k / 8, lane = k % 8;
      const std::size_t i = block * (8 / t) + lane / t;
      d_.fwd_lane[s][k] = d_.roots[m + i];
      d_.fwd_lane_q[s][k] = d_.roots_q[m + i];
      d_.inv_lane[s][k] = d_.inv_roots[m + i];
      d_.inv_lane_q[s][k] = d_.inv_roots_q[m + i];
    }
  }
}

void NttTables::forward_with(NttPath path, std::span<uint64_t> a) const noexcept {
  PINFER_ASSERT(a.size() == n_);
  if (path == NttPath::ifma) {
    detail::ntt_forward_ifma(d_, a.data());
  } else {
    detail::ntt_forward_portable(d_, a.data());
  }
}

void NttTables::inverse_with(NttPath path, std::span<uint64_t> a) const noexcept {
  PINFER_ASSERT(a.size() == n_);
  if (path == NttPath::ifma) {
    detail::ntt_inverse_ifma(d_, a.data());
  } else {
    detail::ntt_inverse_portable(d_, a.data());
  }
}

namespace detail {

// Cooley-Tukey, decimation in time; values in [0, 4p) between stages (Harvey 2014, Alg. 4).
void ntt_forward_portable(const NttTables::Data& d, uint64_t* a) noexcept {
  const std::size_t n = d.n;
  const uint64_t p = d.p, two_p = 2 * p;
  std::size_t t = n;
  for (std::size_t m = 1; m < n; m <<= 1) {
    t >>= 1;
    for (std::size_t i = 0; i < m; ++i) {
      const uint64_t w = d.roots[m + i], wq = d.roots_q[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (std::size_t j = 0; j < t; ++j) {
        uint64_t u = x[j];
        u = u >= two_p ? u - two_p : u;
        const uint64_t v = mul_shoup_lazy(y[j], w, wq, p);
        x[j] = u + v;
        y[j] = u - v + two_p;
      }
    }
  }
  for (std::size_t j = 0; j < n; ++j) {
    uint64_t u = a[j];
    u = u >= two_p ? u - two_p : u;
    a[j] = u >= p ? u - p : u;
  }
}

// Gentleman-Sande, decimation in frequency; values in [0, 2p) between stages (Harvey 2014,
// Alg. 3), scaled by n^-1 at the end.
void ntt_inverse_portable(const NttTables::Data& d, uint64_t* a) noexcept {
  const std::size_t n = d.n;
  const uint64_t p = d.p, two_p = 2 * p;
  std::size_t t = 1;
  for (std::size_t m = n >> 1; m >= 1; m >>= 1) {
    for (std::size_t i = 0; i < m; ++i) {
      const uint64_t w = d.inv_roots[m + i], wq = d.inv_roots_q[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (std::size_t j = 0; j < t; ++j) {
        const uint64_t u = x[j], v = y[j];
        uint64_t s = u + v;
        s = s >= two_p ? s - two_p : s;
        x[j] = s;
        y[j] = mul_shoup_lazy(u - v + two_p, w, wq, p);
      }
    }
    t <<= 1;
  }
  for (std::size_t j = 0; j < n; ++j) {
    const uint64_t u = mul_shoup_lazy(a[j], d.n_inv, d.n_inv_q, p);
    a[j] = u >= p ? u - p : u;
  }
}

Barrett52 make_barrett52(uint64_t p) noexcept {
  Barrett52 m;
  m.p = p;
  while ((p >> m.bits) != 0) ++m.bits;
  m.mu = static_cast<uint64_t>((static_cast<u128>(1) << (m.bits - 1 + 52)) / p);
  return m;
}

namespace {
inline uint64_t barrett_mul(const Barrett52& m, uint64_t a, uint64_t b) noexcept {
  const u128 x = static_cast<u128>(a) * b;
  const uint64_t c = static_cast<uint64_t>(x >> (m.bits - 1));
  const uint64_t q = static_cast<uint64_t>((static_cast<u128>(c) * m.mu) >> 52);
  uint64_t r = static_cast<uint64_t>(x) - q * m.p;
  r = r >= m.p ? r - m.p : r;
  return r >= m.p ? r - m.p : r;
}
}  // namespace

void dyadic_mac_portable(const Barrett52& m, uint64_t* acc, const uint64_t* a, const uint64_t* b,
                         std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t s = acc[i] + barrett_mul(m, a[i], b[i]);
    acc[i] = s >= m.p ? s - m.p : s;
  }
}

void dyadic_mul_portable(const Barrett52& m, uint64_t* out, const uint64_t* a, const uint64_t* b,
                         std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = barrett_mul(m, a[i], b[i]);
}

}  // namespace detail
}  // namespace pinfer::he
