// Decryption at the worst-case noise bound (docs/HE.md, "Noise" and eq. 7): a ciphertext whose
// noise is exactly the plan's bound B = B_mul + 2^f + B_pk + 1/2 on every coefficient (both signs)
// must decrypt after the server's modulus switch (c1 with randomised rounding), also when the c1
// rounding is steered so that its error at a coefficient reaches the plan's Hoeffding bound tau;
// a noise well beyond Q/(2t), or a c1 rounding error far beyond tau, must not decrypt.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "he/context_impl.hpp"
#include "he/linear_layout.hpp"
#include "he/pow2_switch.hpp"
#include "he/sampling.hpp"
#include "pinfer/he/keys.hpp"
#include "pinfer/he/linear.hpp"

namespace pinfer::he {
namespace {

using detail::u128;

// Worst-case bound of the plan, exactly: terms * 2^(l-1) * (21 + 1 + 2^k) + 2^f + (2N + 1) * 21
// + 1/2 (k: query compression), rounded down (the noise is an integer).
u128 worst_case_bound(const LinearPlan& p, std::size_t n, unsigned l) {
  const u128 per_term =
      22 + (p.query_drop_bits > 0 ? static_cast<u128>(1) << p.query_drop_bits : 0);
  const u128 b_mul = static_cast<u128>(p.weight_terms) * per_term << (l - 1);
  return b_mul + (static_cast<u128>(1) << p.flood_log2) + (2 * static_cast<u128>(n) + 1) * 21;
}

// How the server's c1 switch rounds in decrypt_errors().
enum class C1Rounding {
  randomized,      // as the server: floor + 1 with probability frac (coins from the test's Prg)
  steered_to_tau,  // error at coefficient 0 steered to the plan's bound tau (same sign as noise)
  adversarial,     // error at coefficient 0 as large as the rounding allows (far beyond tau)
};

// The plan's bound on the c1 rounding error at one coefficient, in units of 2^-b (eq. 7,
// without the fixed-point bias h L 2^-14, which the test's values carry themselves):
// tau = sqrt(h ln(2 / delta) / 2), h = max_secret_l1(N), delta = 2^-(mu + 8).
long double c1_tau(const Context& ctx) {
  const unsigned mu = ctx.params().stat_security_bits + ctx.params().max_revealed_log2;
  return std::sqrt(static_cast<long double>(max_secret_l1(ctx.n())) * (mu + 9) * std::log(2.0L) /
                   2.0L);
}

// Builds (c0, c1) mod Q_L with c0 + c1 s = round(Q m / t) + noise[j], switches both to 2^a and 2^b
// as the server does (c1 rounded as `rounding` says), and decrypts as the client does. Returns the
// number of wrong coefficients among the first `check` ones.
std::size_t decrypt_errors(const Context& ctx, const ClientKeys& keys, const LinearPlan& p,
                           const std::vector<uint64_t>& m, const std::vector<u128>& noise_abs,
                           unsigned noise_shift, const std::vector<int>& noise_sign, Prg& prg,
                           C1Rounding rounding = C1Rounding::randomized, std::size_t check = 0) {
  const auto& c = ctx.impl();
  const std::size_t n = ctx.n(), L = p.limbs;
  if (check == 0) check = n;
  std::vector<std::vector<uint64_t>> c0(L, std::vector<uint64_t>(n)),
      c1(L, std::vector<uint64_t>(n));
  for (std::size_t i = 0; i < L; ++i) {
    const uint64_t q = c.params.primes[i];
    detail::sample_uniform_mod(prg, q, c1[i]);
    std::vector<uint64_t> prod = c1[i];
    c.ntt[i].forward(prod);
    detail::dyadic_mul_portable(c.barrett[i], prod.data(), prod.data(),
                                keys.secret_ntt().data() + i * n, n);
    c.ntt[i].inverse(prod);
    for (std::size_t j = 0; j < n; ++j) {
      // |noise| = noise_abs[j] * 2^noise_shift, reduced mod q.
      const uint64_t e = detail::mul_mod(static_cast<uint64_t>(noise_abs[j] % q),
                                         detail::pow_mod(2, noise_shift, q), q);
      const uint64_t signed_e = noise_sign[j] > 0 ? e : (q - e) % q;
      const uint64_t phase = (detail::encode_scaled(c, L, i, m[j]) + signed_e) % q;
      c0[i][j] = (phase + q - prod[j]) % q;
    }
  }
  std::vector<u128> fa, fb;
  for (std::size_t i = 0; i < L; ++i) {
    fa.push_back(detail::pow2_scale_factor(c.params.primes[i], p.c0_bits));
    fb.push_back(detail::pow2_scale_factor(c.params.primes[i], p.c1_bits));
  }
  std::vector<const uint64_t*> p0(L), p1(L);
  for (std::size_t i = 0; i < L; ++i) {
    p0[i] = c0[i].data();
    p1[i] = c1[i].data();
  }
  std::vector<uint64_t> s0(n), s1(n), prod(n);
  for (std::size_t j = 0; j < n; ++j) {
    s0[j] = detail::switch_to_pow2(c, L, p0.data(), j, fa.data(), p.c0_bits);
    s1[j] =
        detail::switch_to_pow2_randomized(c, L, p1.data(), j, fb.data(), p.c1_bits, prg.next_u64());
  }
  if (rounding != C1Rounding::randomized) {
    // Coefficient 0 of (eps * s) in Z[X]/(X^N + 1) is sum_j sigma_j eps_j with sigma_0 = s_0 and
    // sigma_j = -s_{N-j}: round every c1 coefficient towards the sign of the noise at 0...
    const auto sec = keys.secret_coeffs();
    const long double dir = noise_sign[0] > 0 ? 1.0L : -1.0L;
    std::vector<long double> frac(n);
    std::vector<int> sigma(n);
    std::vector<uint8_t> up(n);
    long double err = 0;  // sum_j sigma_j eps_j, in units of 2^-b
    for (std::size_t j = 0; j < n; ++j) {
      const u128 fx = detail::switch_to_pow2_fixed(c, L, p1.data(), j, fb.data());
      frac[j] = std::ldexp(static_cast<long double>(static_cast<uint64_t>(fx)), -64);
      sigma[j] = j == 0 ? sec[0] : -sec[n - j];
      up[j] = sigma[j] * dir > 0;
      err += sigma[j] * (up[j] ? 1.0L - frac[j] : -frac[j]);
      s1[j] = detail::low_bits(static_cast<uint64_t>(fx >> 64) + up[j], p.c1_bits);
    }
    // ... then, for steered_to_tau, undo choices (each moves the error by exactly 1 towards 0)
    // until the error is within (tau - 1, tau].
    const long double tau = c1_tau(ctx);
    for (std::size_t j = 0; rounding == C1Rounding::steered_to_tau && j < n && err * dir > tau;
         ++j) {
      if (sigma[j] == 0) continue;
      const uint64_t hi = (s1[j] - up[j]) & ((p.c1_bits == 64 ? 0 : uint64_t{1} << p.c1_bits) - 1);
      err -= sigma[j] * (up[j] ? 1.0L : -1.0L);
      up[j] ^= 1;
      s1[j] = detail::low_bits(hi + up[j], p.c1_bits);
    }
    EXPECT_GT(err * dir, rounding == C1Rounding::steered_to_tau ? tau - 1 : 4 * tau);
  }
  detail::c1_times_secret(c, keys, s1, prod);
  std::size_t wrong = 0;
  for (std::size_t j = 0; j < check; ++j) {
    wrong += detail::decode_pow2(s0[j], prod[j], p.c0_bits, p.c1_bits, ctx.plain_bits()) != m[j];
  }
  return wrong;
}

class WorstCaseNoise : public ::testing::TestWithParam<unsigned> {};

TEST_P(WorstCaseNoise, DecryptsAtTheBoundAndFailsFarBeyondIt) {
  const unsigned l = GetParam();
  const Context ctx = Context::create(l);
  Prg prg = Prg::from_seed(Block(l, 99));
  const ClientKeys keys(ctx, prg);
  // The layer with the most weight terms per output ciphertext in ResNet-18 (512 channels, 3x3).
  const LinearGeometry g = ConvGeometry{512, 8, 8, 512, 3, 3, 1, 1, 1, 1, 1, 1};
  const LinearPlan p = plan_linear(ctx, g);
  const std::size_t n = ctx.n();
  const u128 bound = worst_case_bound(p, n, l);
  // The noise before switching uses less than the decryption radius: t B / Q_L < 1/2.
  EXPECT_LT(std::log2(static_cast<long double>(bound)) + l + 1, p.log2_q);
  EXPECT_LE(std::fabs(std::log2(static_cast<long double>(bound)) - p.noise_log2), 1e-6);

  std::vector<uint64_t> m(n);
  prg.fill_ring(ctx.ring(), m);
  m[0] = 0;
  m[1] = ctx.ring().mask();  // extremes of the plaintext range
  std::vector<u128> noise(n, bound);
  std::vector<int> sign(n);
  for (std::size_t j = 0; j < n; ++j) sign[j] = (j % 2 == 0) ? 1 : -1;
  EXPECT_EQ(decrypt_errors(ctx, keys, p, m, noise, 0, sign, prg), 0u);
  // The plan's budget (eq. 7): nu + (1/2 + 2^-10) 2^(l-a) + (tau + h L 2^-14) 2^(l-b) < 1/2.
  const long double nu = std::exp2(std::log2(static_cast<long double>(bound)) + l - p.log2_q);
  const long double h = static_cast<long double>(max_secret_l1(n));
  EXPECT_LT(nu + (0.5L + std::ldexp(1.0L, -10)) * std::ldexp(1.0L, int(l) - int(p.c0_bits)) +
                (c1_tau(ctx) + h * p.limbs * std::ldexp(1.0L, -14)) *
                    std::ldexp(1.0L, int(l) - int(p.c1_bits)),
            0.5L);
  // Coefficient 0 with the c1 rounding error at the bound tau decrypts (noise +B there too, both
  // signs); far beyond tau it does not: the Hoeffding bound is what the plan relies on.
  for (const int s0 : {1, -1}) {
    sign[0] = s0;
    for (int rep = 0; rep < 3; ++rep) {
      EXPECT_EQ(decrypt_errors(ctx, keys, p, m, noise, 0, sign, prg, C1Rounding::steered_to_tau, 1),
                0u);
    }
    EXPECT_EQ(decrypt_errors(ctx, keys, p, m, noise, 0, sign, prg, C1Rounding::adversarial, 1), 1u);
  }
  sign[0] = 1;

  // Noise of 0.8 Q / t (beyond the decryption radius Q / (2t)) must garble almost every
  // coefficient: this shows the check above can fail. 0.8 Q / t = 0.8 * 2^(log2 Q - l) written as
  // (0.8 * 2^100) * 2^(log2 Q - l - 100).
  const long double e = p.log2_q - l - 100;
  const auto shift = static_cast<unsigned>(std::floor(e));
  const u128 mant = static_cast<u128>(0.8L * std::exp2(100.0L + (e - shift)));
  std::vector<u128> big(n, mant);
  EXPECT_GT(decrypt_errors(ctx, keys, p, m, big, shift, sign, prg), n * 9 / 10);
}

INSTANTIATE_TEST_SUITE_P(PlainBits, WorstCaseNoise, ::testing::Values(16u, 31u, 32u, 37u, 44u));

TEST(ClientKeys, SecretWeightIsWithinTheBoundTheDecryptionAnalysisUses) {
  const Context ctx = Context::create(32);
  for (uint64_t seed = 0; seed < 8; ++seed) {
    Prg prg = Prg::from_seed(Block(seed, 7));
    const ClientKeys keys(ctx, prg);
    std::size_t weight = 0;
    for (const int8_t v : keys.secret_coeffs()) weight += v != 0;
    EXPECT_LE(weight, max_secret_l1(ctx.n())) << "seed " << seed;
    EXPECT_GT(weight, ctx.n() / 2) << "seed " << seed;  // still a uniform ternary key
  }
}

}  // namespace
}  // namespace pinfer::he
