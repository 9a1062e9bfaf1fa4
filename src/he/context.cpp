#include "pinfer/he/context.hpp"

#include <cmath>
#include <string>

#include "he/context_impl.hpp"
#include "he/linear_parts.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::he {

unsigned he_standard_max_log_q(std::size_t n) {
  // HE Security Standard (2018), Table 1: 128-bit classical security, uniform ternary secret.
  switch (n) {
    case 1024:
      return 27;
    case 2048:
      return 54;
    case 4096:
      return 109;
    case 8192:
      return 218;
    case 16384:
      return 438;
    case 32768:
      return 881;
    default:
      throw InvalidArgument("ring dimension N = " + std::to_string(n) +
                            " is not in the HE Standard table (1024..32768)");
  }
}

std::vector<uint64_t> Parameters::ntt_primes(std::size_t n, unsigned bits, std::size_t count) {
  std::vector<uint64_t> out;
  const uint64_t step = 2 * n;
  uint64_t p = ((uint64_t{1} << bits) / step) * step + 1;
  while (out.size() < count && p > step) {
    p -= step;
    if (p < (uint64_t{1} << bits)) {
      try {
        (void)NttTables(16, p);  // primality and congruence check (1 mod 2n implies 1 mod 32)
        out.push_back(p);
      } catch (const InvalidArgument&) {
      }
    }
  }
  return out;
}

Parameters Parameters::standard(unsigned plain_bits) {
  if (plain_bits < kMinPlainBits || plain_bits > kMaxPlainBits) {
    throw InvalidArgument("plaintext bits " + std::to_string(plain_bits) + " outside [" +
                          std::to_string(kMinPlainBits) + ", " + std::to_string(kMaxPlainBits) +
                          "]");
  }
  Parameters p;
  p.poly_degree = 8192;
  p.plain_bits = plain_bits;
  static const std::vector<uint64_t> primes = ntt_primes(8192, 50, 4);
  p.primes = primes;
  return p;
}

double Parameters::log2_modulus() const {
  double s = 0;
  for (uint64_t p : primes) s += std::log2(static_cast<double>(p));
  return s;
}

void Parameters::validate() const {
  const unsigned max_log_q = he_standard_max_log_q(poly_degree);
  // At most 5 primes (< 2^250): coefficients are composed in 256-bit integers.
  if (primes.empty() || primes.size() > 5) {
    throw InvalidArgument("prime count " + std::to_string(primes.size()) + " outside [1, 5]");
  }
  for (std::size_t i = 0; i < primes.size(); ++i) {
    (void)NttTables(poly_degree, primes[i]);  // throws InvalidArgument on a bad prime
    for (std::size_t j = 0; j < i; ++j) {
      if (primes[i] == primes[j]) throw InvalidArgument("RNS primes must be distinct");
    }
  }
  // Ceiling of log2 Q, computed conservatively (the table bounds log2 Q itself).
  const double log_q = log2_modulus();
  if (log_q > static_cast<double>(max_log_q)) {
    throw InvalidArgument("insecure parameters: log2 Q = " + std::to_string(log_q) +
                          " exceeds the HE Standard bound " + std::to_string(max_log_q) +
                          " for N = " + std::to_string(poly_degree) + " (128-bit security)");
  }
  if (plain_bits < kMinPlainBits || plain_bits > kMaxPlainBits) {
    throw InvalidArgument("plaintext bits " + std::to_string(plain_bits) + " outside [" +
                          std::to_string(kMinPlainBits) + ", " + std::to_string(kMaxPlainBits) +
                          "]");
  }
  if (stat_security_bits < 40 || stat_security_bits + max_revealed_log2 > 80) {
    throw InvalidArgument(
        "statistical security " + std::to_string(stat_security_bits) + " bits with 2^" +
        std::to_string(max_revealed_log2) +
        " revealed coefficients is outside the supported range (>= 40, sum <= 80)");
  }
}

Context::Context(Parameters params) : impl_(std::make_unique<detail::ContextImpl>()) {
  params.validate();
  detail::ContextImpl& c = *impl_;
  c.plans = std::make_shared<detail::PlanCache>();
  c.params = std::move(params);
  c.path = ntt_active_path();
  const auto& primes = c.params.primes;
  const std::size_t k = primes.size();
  const uint64_t t_mod64 = uint64_t{1} << c.params.plain_bits;
  for (uint64_t p : primes) {
    c.ntt.emplace_back(c.params.poly_degree, p);
    c.barrett.push_back(detail::make_barrett52(p));
    c.ratio64.push_back(static_cast<uint64_t>((static_cast<detail::u128>(1) << 64) / p));
    c.t_inv.push_back(detail::inv_mod(t_mod64 % p, p));
    c.t_inv_q.push_back(detail::shoup52(c.t_inv.back(), p));
    c.two64_mod.push_back(static_cast<uint64_t>((static_cast<detail::u128>(1) << 64) % p));
    std::vector<uint64_t> pw(4), pwq(4);
    for (std::size_t j = 0; j < 4; ++j) {
      pw[j] = j == 0 ? 1 % p : detail::mul_mod(pw[j - 1], c.two64_mod.back(), p);
      pwq[j] = detail::shoup52(pw[j], p);
    }
    c.pow64.push_back(pw);
    c.pow64_q.push_back(pwq);
  }
  for (std::size_t len = 1; len <= k; ++len) {
    detail::PrefixConstants pc;
    pc.q_mod_2_64 = 1;
    pc.q.w[0] = 1;
    for (std::size_t i = 0; i < len; ++i) pc.q = detail::u256_mul_u64(pc.q, primes[i]);
    for (std::size_t i = 0; i < len; ++i) {
      detail::U256 qh;
      qh.w[0] = 1;
      for (std::size_t j = 0; j < len; ++j) {
        if (j != i) qh = detail::u256_mul_u64(qh, primes[j]);
      }
      pc.qhat.push_back(qh);
    }
    for (std::size_t i = 0; i < len; ++i) {
      pc.q_mod_2_64 *= primes[i];
      pc.log2_q += std::log2(static_cast<double>(primes[i]));
      uint64_t qhat = 1;
      for (std::size_t j = 0; j < len; ++j) {
        if (j != i) qhat = detail::mul_mod(qhat, primes[j] % primes[i], primes[i]);
      }
      const uint64_t inv = detail::inv_mod(qhat, primes[i]);
      pc.qhat_inv.push_back(inv);
      pc.qhat_inv_q.push_back(detail::shoup52(inv, primes[i]));
    }
    c.prefix.push_back(std::move(pc));
  }
}

Context::~Context() = default;
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;

const Parameters& Context::params() const noexcept {
  return impl_->params;
}

const NttTables& Context::ntt(std::size_t limb) const {
  if (limb >= impl_->ntt.size()) throw InvalidArgument("limb index out of range");
  return impl_->ntt[limb];
}

}  // namespace pinfer::he
