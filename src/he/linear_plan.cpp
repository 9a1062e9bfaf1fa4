// Tiling and parameter choice for one linear layer (docs/HE.md, "Packing" and "Noise").
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "he/context_impl.hpp"
#include "he/linear_parts.hpp"
#include "pinfer/core/bit_packing.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/he/linear.hpp"

namespace pinfer::he {
namespace {

// Relative weight of downloaded to uploaded bits in the packing choice (a Lagrange multiplier for
// the two per-inference caps). ResNet-18 at l = 37: 1.0 gives 87.4 MB up / 113.0 MB down, every
// weight in [1.04, 1.14] gives 98.5 / 100.9, 1.16 and above 108.8 / 91.8 (docs/perf/he.md).
constexpr long double kDownloadWeight = 1.2L;

// Query compression drops at most this many low bits of c0 (docs/HE.md, section 1).
constexpr unsigned kMaxDropBits = 40;
// A decryption failure may happen with probability <= 2^-(mu + kFailureExtraBits) per revealed
// coefficient (mu = stat_security_bits + max_revealed_log2); flooding keeps
// 2^-mu (1 - 2^-kFailureExtraBits) of the per-coefficient budget (docs/HE.md, sections 4, 5).
constexpr unsigned kFailureExtraBits = 8;
// Response c0 modulus 2^a with a in [l + 1, l + kMaxC0Extra].
constexpr unsigned kMaxC0Extra = 12;

struct NoiseAt {
  bool ok = false;         // flooding fits in 126 bits
  unsigned flood = 0;      // f: flooding uniform in [-2^f, 2^f)
  long double log2_b = 0;  // log2 of the worst-case noise bound B before switching
};

std::size_t ceil_div(std::size_t a, std::size_t b) {
  return (a + b - 1) / b;
}

struct Transformed {
  std::size_t c, h, w, m, oh, ow, kh, kw, ph, pw, terms_per_out;
};

Transformed transform(const LinearGeometry& g) {
  if (const auto* fc = std::get_if<FcGeometry>(&g)) {
    if (fc->in_features == 0 || fc->out_features == 0) {
      throw InvalidArgument("FC layer needs in_features and out_features > 0");
    }
    return {fc->in_features, 1, 1, fc->out_features, 1, 1, 1, 1, 1, 1, fc->in_features};
  }
  const auto& cv = std::get<ConvGeometry>(g);
  const std::size_t oh = cv.out_h(), ow = cv.out_w();
  const std::size_t ph = std::min(cv.stride_h, cv.kernel_h),
                    pw = std::min(cv.stride_w, cv.kernel_w);
  const std::size_t kh = ceil_div(cv.kernel_h, cv.stride_h),
                    kw = ceil_div(cv.kernel_w, cv.stride_w);
  return {cv.in_channels * ph * pw,
          oh + kh - 1,
          ow + kw - 1,
          cv.out_channels,
          oh,
          ow,
          kh,
          kw,
          ph,
          pw,
          cv.in_channels * cv.kernel_h * cv.kernel_w};
}

uint64_t fnv(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xFF;
    h *= 0x100000001B3ull;
  }
  return h;
}

}  // namespace

std::size_t ConvGeometry::out_h() const {
  if (kernel_h == 0 || stride_h == 0 || in_h + pad_top + pad_bottom < kernel_h) {
    throw InvalidArgument("conv: kernel_h " + std::to_string(kernel_h) +
                          " does not fit the padded input height " +
                          std::to_string(in_h + pad_top + pad_bottom) + " (or stride 0)");
  }
  return (in_h + pad_top + pad_bottom - kernel_h) / stride_h + 1;
}

std::size_t ConvGeometry::out_w() const {
  if (kernel_w == 0 || stride_w == 0 || in_w + pad_left + pad_right < kernel_w) {
    throw InvalidArgument("conv: kernel_w " + std::to_string(kernel_w) +
                          " does not fit the padded input width " +
                          std::to_string(in_w + pad_left + pad_right) + " (or stride 0)");
  }
  return (in_w + pad_left + pad_right - kernel_w) / stride_w + 1;
}

std::size_t linear_input_size(const LinearGeometry& g) {
  if (const auto* fc = std::get_if<FcGeometry>(&g)) return fc->in_features;
  const auto& cv = std::get<ConvGeometry>(g);
  return cv.in_channels * cv.in_h * cv.in_w;
}

std::size_t linear_output_size(const LinearGeometry& g) {
  if (const auto* fc = std::get_if<FcGeometry>(&g)) return fc->out_features;
  const auto& cv = std::get<ConvGeometry>(g);
  return cv.out_channels * cv.out_h() * cv.out_w();
}

std::size_t linear_weight_size(const LinearGeometry& g) {
  if (const auto* fc = std::get_if<FcGeometry>(&g)) return fc->in_features * fc->out_features;
  const auto& cv = std::get<ConvGeometry>(g);
  return cv.out_channels * cv.in_channels * cv.kernel_h * cv.kernel_w;
}

namespace detail {

LinearPlan plan_single(const Context& ctx, const LinearGeometry& g, long double& cost_out) {
  const detail::ContextImpl& c = ctx.impl();
  const Transformed tr = transform(g);
  if (const auto* cv = std::get_if<ConvGeometry>(&g)) {
    if (cv->in_channels == 0 || cv->out_channels == 0 || cv->in_h == 0 || cv->in_w == 0) {
      throw InvalidArgument("conv layer needs non-zero channels and input size");
    }
    constexpr std::size_t kMaxDim = std::size_t{1} << 20;
    if (cv->in_channels > kMaxDim || cv->out_channels > kMaxDim || cv->in_h > kMaxDim ||
        cv->in_w > kMaxDim || cv->kernel_h > 1024 || cv->kernel_w > 1024 ||
        cv->pad_top >= cv->kernel_h || cv->pad_bottom >= cv->kernel_h ||
        cv->pad_left >= cv->kernel_w || cv->pad_right >= cv->kernel_w) {
      throw InvalidArgument(
          "conv geometry out of the supported range (dims <= 2^20, kernel <= "
          "1024, padding < kernel)");
    }
  }
  const std::size_t n = ctx.n();
  const unsigned l = ctx.plain_bits();
  unsigned log_n = 0;
  while ((std::size_t{1} << log_n) < n) ++log_n;
  const Parameters& prm = c.params;
  const unsigned margin = prm.stat_security_bits + prm.max_revealed_log2;
  const long double eta = kErrorEta;
  // Public-key re-randomisation noise: u*e + e1 + e2*s with u, s ternary (docs/HE.md, eq. 3).
  const long double b_pk = (2.0L * n + 1) * eta;
  const long double w_max = std::ldexp(1.0L, static_cast<int>(l) - 1);
  // Decryption error of the response's switch (docs/HE.md, section 5, eq. 7), in units of 1/t:
  // c0 (deterministic rounding): (1/2 + 2^-10) 2^(l-a); c1 (randomised rounding, Hoeffding over
  // the h = max_secret_l1(N) nonzero key coefficients, failure probability delta = 2^-(mu+8)):
  // (tau + h L 2^-14) 2^(l-b) with tau = sqrt(h ln(2/delta) / 2).
  const long double h_s = static_cast<long double>(max_secret_l1(n));
  const long double tau = std::sqrt(h_s * (margin + kFailureExtraBits + 1) * std::log(2.0L) / 2.0L);
  const long double err0 = 0.5L + std::ldexp(1.0L, -10);
  const std::size_t n_prefix = c.prefix.size();
  // Query coefficient bits for every (L, k): bitlen(floor((Q_L - 1) / 2^k) + 1).
  std::vector<std::array<unsigned, kMaxDropBits + 1>> coeff_bits_at(n_prefix);
  for (std::size_t L = 1; L <= n_prefix; ++L) {
    for (unsigned k = 0; k <= kMaxDropBits; ++k) {
      const detail::U256 max_v = detail::u256_add(
          detail::u256_shr(detail::u256_sub(c.prefix[L - 1].q, detail::U256{{1, 0, 0, 0}}), k),
          detail::U256{{1, 0, 0, 0}});
      coeff_bits_at[L - 1][k] = detail::u256_bitlen(max_v);
    }
  }
  const long double c1_err = tau;  // + h L 2^-14, added per L below
  // Per (weight terms): the noise and flooding for every k, and for every (L, k, a) the smallest
  // b that decrypts (0: none), memoised: the tilings share few term counts.
  struct TermsTable {
    std::array<NoiseAt, kMaxDropBits + 1> noise{};
    // b_for[L-1][k][a - l - 1]
    std::vector<std::array<std::array<unsigned, kMaxC0Extra>, kMaxDropBits + 1>> b_for;
  };
  std::map<std::size_t, TermsTable> memo;
  auto table_for = [&](std::size_t terms) -> const TermsTable& {
    auto it = memo.find(terms);
    if (it != memo.end()) return it->second;
    TermsTable t;
    for (unsigned k = 0; k <= kMaxDropBits; ++k) {
      // Product noise x = W (e + delta + rho) over all weight terms of the output ciphertext,
      // |w| <= 2^(l-1) (centered), |e| <= eta, |delta| < 1 (randomised rounding, zero mean),
      // |rho| < 2^k (query compression, zero mean, variance <= 2^(2k) / 4). Worst case
      // (decryption): terms 2^(l-1) (eta + 1 + 2^k). Expected magnitude over the client's honest
      // noise (flooding, eq. 4): E|x| <= sqrt(E x^2) <= sqrt(terms) 2^(l-1) sqrt(var).
      const long double rho = std::ldexp(1.0L, static_cast<int>(k));
      const long double b_mul =
          static_cast<long double>(terms) * w_max * (eta + 1.0L + (k ? rho : 0));
      const long double var = eta / 2.0L + 0.25L + (k ? rho * rho / 4.0L : 0);
      const long double e_abs = std::sqrt(static_cast<long double>(terms)) * w_max * std::sqrt(var);
      // Flood uniform in [-2^f, 2^f): SD E|x| / 2^(f+1) <= 2^-margin (1 - 2^-8), leaving
      // 2^-(margin+8) of the per-coefficient budget to a decryption failure (eq. 7).
      const long double slack = -std::log2(1.0L - std::ldexp(1.0L, -8));
      const auto flood = static_cast<unsigned>(std::ceil(std::log2(e_abs) + slack)) + margin - 1;
      // + 1/2: deterministic rounding of the server's -round(Q s / t).
      const long double b_total = b_mul + std::ldexp(1.0L, static_cast<int>(flood)) + b_pk + 0.5L;
      t.noise[k] = NoiseAt{flood + 1 <= 126, flood, std::log2(b_total)};
    }
    t.b_for.resize(n_prefix);
    for (std::size_t L = 1; L <= n_prefix; ++L) {
      const long double c1_total = c1_err + h_s * L * std::ldexp(1.0L, -14);
      for (unsigned k = 0; k <= kMaxDropBits; ++k) {
        auto& row = t.b_for[L - 1][k];
        row.fill(0);
        if (!t.noise[k].ok) continue;
        const long double nu = std::exp2(t.noise[k].log2_b + l - c.prefix[L - 1].log2_q);
        if (nu >= 0.5L) continue;
        for (unsigned a = l + 1; a <= l + kMaxC0Extra; ++a) {
          const long double rem = 0.5L - nu - err0 * std::ldexp(1.0L, int(l) - int(a));
          if (rem <= 0) continue;
          unsigned b = static_cast<unsigned>(std::floor(l + std::log2(c1_total / rem))) + 1;
          while (c1_total * std::ldexp(1.0L, int(l) - int(b)) >= rem) ++b;
          b = std::max(b, a);
          if (b <= 64) row[a - l - 1] = b;
        }
      }
    }
    return memo.emplace(terms, std::move(t)).first->second;
  };

  LinearPlan best;
  long double best_cost = std::numeric_limits<long double>::infinity();
  std::size_t prev_hob = 0;
  for (std::size_t nh = 1; nh <= tr.oh; ++nh) {
    const std::size_t hob = ceil_div(tr.oh, nh);
    if (hob == prev_hob) continue;
    prev_hob = hob;
    const std::size_t ibh = hob + tr.kh - 1;
    std::size_t prev_wob = 0;
    for (std::size_t nw = 1; nw <= tr.ow; ++nw) {
      const std::size_t wob = ceil_div(tr.ow, nw);
      if (wob == prev_wob) continue;
      prev_wob = wob;
      const std::size_t ibw = wob + tr.kw - 1;
      const std::size_t area = ibh * ibw;
      if (area > n) continue;
      const std::size_t real_nh = ceil_div(tr.oh, hob), real_nw = ceil_div(tr.ow, wob);
      std::size_t prev_cw = 0;
      for (std::size_t cw0 = 1; cw0 <= std::min(tr.c, n / area); ++cw0) {
        const std::size_t ncb = ceil_div(tr.c, cw0);
        const std::size_t cw = ceil_div(tr.c, ncb);
        if (cw == prev_cw) continue;
        prev_cw = cw;
        const std::size_t mg_max = std::min(tr.m, n / (cw * area));
        const std::size_t ngr = ceil_div(tr.m, mg_max);
        const std::size_t mg = ceil_div(tr.m, ngr);
        const std::size_t terms = mg * tr.terms_per_out;
        const TermsTable& tt = table_for(terms);
        const auto& noise = tt.noise;
        const std::size_t in_cts = ncb * real_nh * real_nw;
        const std::size_t out_cts = ngr * real_nh * real_nw;
        const long double useful_total = static_cast<long double>(tr.m * tr.oh * tr.ow);
        const long double prods = static_cast<long double>(ncb) * ngr * real_nh * real_nw;
        // Joint choice of (L, k, a, b) for this tiling: the least weighted bits such that
        // nu(k) + c0 error + c1 error < 1/2 (eq. 7), nu = t B / Q_L the noise before switching.
        for (std::size_t L = 1; L <= n_prefix; ++L) {
          const long double log2_q = c.prefix[L - 1].log2_q;
          for (unsigned k = 0; k <= kMaxDropBits; ++k) {
            const auto& b_row = tt.b_for[L - 1][k];
            const long double up = static_cast<long double>(in_cts) * n * coeff_bits_at[L - 1][k];
            for (unsigned a = l + 1; a <= l + kMaxC0Extra; ++a) {
              const unsigned b = b_row[a - l - 1];
              if (b == 0) continue;
              const long double down = static_cast<long double>(out_cts) * n * b + useful_total * a;
              // Bits dominate (download weighted by kDownloadWeight to balance the two
              // directions); compute (products, 64 B-equivalent per limb) breaks near-ties.
              const long double cost = up + kDownloadWeight * down + prods * L * 512.0L;
              if (cost >= best_cost) continue;
              best_cost = cost;
              best = LinearPlan{};
              best.channels = tr.c;
              best.height = tr.h;
              best.width = tr.w;
              best.out_channels = tr.m;
              best.out_h = tr.oh;
              best.out_w = tr.ow;
              best.kernel_h = tr.kh;
              best.kernel_w = tr.kw;
              best.phase_h = tr.ph;
              best.phase_w = tr.pw;
              best.cw = cw;
              best.mg = mg;
              best.ob_h = hob;
              best.ob_w = wob;
              best.ib_h = ibh;
              best.ib_w = ibw;
              best.n_cblocks = ncb;
              best.n_groups = ngr;
              best.n_hblocks = real_nh;
              best.n_wblocks = real_nw;
              best.limbs = L;
              best.query_drop_bits = k;
              best.query_coeff_bits = coeff_bits_at[L - 1][k];
              best.weight_terms = terms;
              best.flood_log2 = noise[k].flood;
              best.c0_bits = a;
              best.c1_bits = b;
              best.noise_log2 = static_cast<double>(noise[k].log2_b);
              best.log2_q = static_cast<double>(log2_q);
              best.input_cts = in_cts;
              best.output_cts = out_cts;
              best.products = static_cast<std::size_t>(prods);
            }
          }
        }
      }
    }
  }
  if (best.limbs == 0) {
    throw InvalidArgument(
        "no packing of this layer decrypts correctly within the context's "
        "modulus (too many weight terms for l = " +
        std::to_string(l) + ")");
  }
  LinearPlan& p = best;
  // Wire sizes (docs/HE.md, "Wire format"): query header 4+4+8+4+4+16, then per ciphertext and
  // limb N packed residues; response header 4+4+8+4, then per ciphertext c1 (N x b bits) and the
  // useful c0 coefficients (a bits), each byte aligned.
  p.query_bytes = 40 + p.input_cts * packed_size_bytes(n, p.query_coeff_bits);
  std::size_t resp = 20;
  for (std::size_t gi = 0; gi < p.n_groups; ++gi) {
    const std::size_t m_here = std::min(p.mg, p.out_channels - gi * p.mg);
    for (std::size_t hb = 0; hb < p.n_hblocks; ++hb) {
      const std::size_t h_here = std::min(p.ob_h, p.out_h - hb * p.ob_h);
      for (std::size_t wb = 0; wb < p.n_wblocks; ++wb) {
        const std::size_t w_here = std::min(p.ob_w, p.out_w - wb * p.ob_w);
        resp += packed_size_bytes(n, p.c1_bits) +
                packed_size_bytes(m_here * h_here * w_here, p.c0_bits);
      }
    }
  }
  p.response_bytes = resp;
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t v : {uint64_t{n},
                     uint64_t{l},
                     uint64_t{p.limbs},
                     uint64_t{p.channels},
                     uint64_t{p.height},
                     uint64_t{p.width},
                     uint64_t{p.out_channels},
                     uint64_t{p.out_h},
                     uint64_t{p.out_w},
                     uint64_t{p.kernel_h},
                     uint64_t{p.kernel_w},
                     uint64_t{p.phase_h},
                     uint64_t{p.phase_w},
                     uint64_t{p.cw},
                     uint64_t{p.mg},
                     uint64_t{p.ob_h},
                     uint64_t{p.ob_w},
                     uint64_t{p.flood_log2},
                     uint64_t{p.query_drop_bits},
                     uint64_t{p.c0_bits},
                     uint64_t{p.c1_bits}}) {
    h = fnv(h, v);
  }
  for (uint64_t q : prm.primes) h = fnv(h, q);
  if (const auto* cv = std::get_if<ConvGeometry>(&g)) {
    for (uint64_t v :
         {cv->in_channels, cv->in_h, cv->in_w, cv->out_channels, cv->kernel_h, cv->kernel_w,
          cv->stride_h, cv->stride_w, cv->pad_top, cv->pad_left, cv->pad_bottom, cv->pad_right}) {
      h = fnv(h, v);
    }
  } else {
    h = fnv(h, 0xFC);
  }
  p.fingerprint = h;
  cost_out = best_cost;
  return best;
}

}  // namespace detail

}  // namespace pinfer::he
