// Decryption at the worst-case noise bound (docs/HE.md, "Noise"): a ciphertext whose noise is
// exactly the plan's bound B = B_mul + 2^f + B_pk + 1/2 on every coefficient (both signs) must
// decrypt after the same modulus switch the server applies; a noise well beyond Q/(2t) must not.
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

// Builds (c0, c1) mod Q_L with c0 + c1 s = round(Q m / t) + noise[j], switches both to 2^a and 2^b
// as the server does, and decrypts as the client does. Returns the number of wrong coefficients.
std::size_t decrypt_errors(const Context& ctx, const ClientKeys& keys, const LinearPlan& p,
                           const std::vector<uint64_t>& m, const std::vector<u128>& noise_abs,
                           unsigned noise_shift, const std::vector<int>& noise_sign, Prg& prg) {
  const auto& c = ctx.impl();
  const std::size_t n = ctx.n(), L = p.limbs;
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
    s1[j] = detail::switch_to_pow2(c, L, p1.data(), j, fb.data(), p.c1_bits);
  }
  detail::c1_times_secret(c, keys, s1, prod);
  std::size_t wrong = 0;
  for (std::size_t j = 0; j < n; ++j) {
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
  // The plan's own bound check: 8/3 * t * B < Q_L.
  EXPECT_LT(std::log2(static_cast<long double>(bound)) + l + 2, p.log2_q);

  std::vector<uint64_t> m(n);
  prg.fill_ring(ctx.ring(), m);
  m[0] = 0;
  m[1] = ctx.ring().mask();  // extremes of the plaintext range
  std::vector<u128> noise(n, bound);
  std::vector<int> sign(n);
  for (std::size_t j = 0; j < n; ++j) sign[j] = (j % 2 == 0) ? 1 : -1;
  EXPECT_EQ(decrypt_errors(ctx, keys, p, m, noise, 0, sign, prg), 0u);

  // Noise of 0.8 Q / t (beyond the decryption radius Q / (2t)) must garble almost every
  // coefficient: this shows the check above can fail. 0.8 Q / t = 0.8 * 2^(log2 Q - l) written as
  // (0.8 * 2^100) * 2^(log2 Q - l - 100).
  const long double e = p.log2_q - l - 100;
  const auto shift = static_cast<unsigned>(std::floor(e));
  const u128 mant = static_cast<u128>(0.8L * std::exp2(100.0L + (e - shift)));
  std::vector<u128> big(n, mant);
  EXPECT_GT(decrypt_errors(ctx, keys, p, m, big, shift, sign, prg), n * 9 / 10);
}

INSTANTIATE_TEST_SUITE_P(PlainBits, WorstCaseNoise, ::testing::Values(16u, 32u, 37u, 44u));

}  // namespace
}  // namespace pinfer::he
