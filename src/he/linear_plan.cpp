// Tiling and parameter choice for one linear layer (docs/HE.md, "Packing" and "Noise").
#include <cmath>
#include <limits>
#include <string>

#include "he/bit_pack.hpp"
#include "he/context_impl.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/he/linear.hpp"

namespace pinfer::he {
namespace {

// Relative weight of downloaded to uploaded bytes in the packing choice. 1 minimises the total;
// other values trade one direction for the other (ResNet-18, l = 37, before query compression:
// 0.9 gave 92 MB up / 121 MB down, 1.0 gave 104 / 108 MB, 1.15 gave 115 / 98 MB).
constexpr long double kDownloadWeight = 1.0L;

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

LinearPlan plan_linear(const Context& ctx, const LinearGeometry& g) {
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
        // Product noise x = W (e + delta) over all weight terms of the output ciphertext, with
        // |w| <= 2^(l-1) (centered), |e| <= eta, |delta| < 1 (randomised rounding, zero mean).
        // Worst case (decryption): terms * 2^(l-1) * (eta + 1). Expected magnitude over the
        // client's honest noise (flooding, docs/HE.md eq. 4): E|x| <= sqrt(E x^2) =
        // sqrt(sum w^2 (eta/2 + 1/4)) <= sqrt(terms) * 2^(l-1) * sqrt(eta/2 + 1/4).
        const std::size_t terms = mg * tr.terms_per_out;
        const long double w_max = std::ldexp(1.0L, static_cast<int>(l) - 1);
        // Noise of the query with its c0 rounded to a multiple of 2^k (randomised rounding:
        // |rho| < 2^k, zero mean, variance <= 2^(2k) / 4).
        auto noise = [&](unsigned k, long double& b_total_out, unsigned& flood_out) {
          const long double rho = std::ldexp(1.0L, static_cast<int>(k));
          const long double b_mul =
              static_cast<long double>(terms) * w_max * (eta + 1.0L + (k ? rho : 0));
          const long double var = eta / 2.0L + 0.25L + (k ? rho * rho / 4.0L : 0);
          const long double e_abs =
              std::sqrt(static_cast<long double>(terms)) * w_max * std::sqrt(var);
          // Flood uniform in [-2^f, 2^f): statistical distance E|x| / 2^(f+1) <= 2^-margin.
          flood_out = static_cast<unsigned>(std::ceil(std::log2(e_abs))) + margin - 1;
          // + 1/2: deterministic rounding of the server's -round(Q s / t).
          b_total_out = b_mul + std::ldexp(1.0L, static_cast<int>(flood_out)) + b_pk + 0.5L;
        };
        long double b_total = 0;
        unsigned flood = 0;
        noise(0, b_total, flood);
        if (flood + 1 > 126) continue;
        // Q_L must leave at least half of the decryption radius 1/(2t) to the modulus switch:
        // B / Q_L <= 1/(4t).
        const long double need = std::log2(b_total) + l + 2.0L + 1e-9L;
        std::size_t limbs = 0;
        for (std::size_t L = 1; L <= c.prefix.size(); ++L) {
          if (c.prefix[L - 1].log2_q > need) {
            limbs = L;
            break;
          }
        }
        if (limbs == 0) continue;
        // Spend the modulus' slack on dropping query bits, keeping one more bit of headroom
        // (B / Q_L <= 1/(8t)) so the response moduli stay as small.
        // The noise grows with k, so binary-search the largest feasible k in [0, 40].
        auto feasible = [&](unsigned k, long double& bt, unsigned& fl) {
          noise(k, bt, fl);
          return fl + 1 <= 126 && std::log2(bt) + l + 3.0L + 1e-9L < c.prefix[limbs - 1].log2_q;
        };
        unsigned drop = 0;
        {
          unsigned lo = 0, hi = 40;  // invariant: lo feasible or 0; hi + 1 infeasible or 41
          while (lo < hi) {
            const unsigned mid = (lo + hi + 1) / 2;
            long double bt = 0;
            unsigned fl = 0;
            if (feasible(mid, bt, fl)) {
              lo = mid;
            } else {
              hi = mid - 1;
            }
          }
          long double bt = 0;
          unsigned fl = 0;
          if (lo > 0 && feasible(lo, bt, fl)) {
            drop = lo;
            b_total = bt;
            flood = fl;
          }
        }
        const detail::U256 max_v = detail::u256_add(
            detail::u256_shr(detail::u256_sub(c.prefix[limbs - 1].q, detail::U256{{1, 0, 0, 0}}),
                             drop),
            detail::U256{{1, 0, 0, 0}});
        const unsigned coeff_bits = detail::u256_bitlen(max_v);
        const std::size_t in_cts = ncb * real_nh * real_nw;
        const std::size_t out_cts = ngr * real_nh * real_nw;
        // Response moduli 2^a (c0) and 2^b (c1): switching errors (each |err| <= 1/2 + 2^-10,
        // docs/HE.md eq. 6) must fit in what the noise leaves of 1/(2t), in units of 1/t:
        // (1/2 + 2^-10) (t / 2^a + N t / 2^b) < 1/2 - t B / Q_L.
        const long double rem =
            0.5L - std::exp2(std::log2(b_total) + l - c.prefix[limbs - 1].log2_q);
        const long double err = 0.5L + std::ldexp(1.0L, -10);
        const std::size_t useful_total = tr.m * tr.oh * tr.ow;
        const std::size_t out_cts_here = ngr * real_nh * real_nw;
        unsigned a_bits = 0, b_bits = 0;
        long double best_down = std::numeric_limits<long double>::infinity();
        for (unsigned a = l + 1; a <= l + 12; ++a) {
          for (unsigned b = std::max(a, l + log_n); b <= std::min(64u, l + log_n + 12); ++b) {
            const long double used =
                err * (std::ldexp(1.0L, static_cast<int>(l) - static_cast<int>(a)) +
                       std::ldexp(1.0L, static_cast<int>(l + log_n) - static_cast<int>(b)));
            if (used >= rem) continue;
            const long double bytes = static_cast<long double>(useful_total) * a +
                                      static_cast<long double>(out_cts_here) * n * b;
            if (bytes < best_down) {
              best_down = bytes;
              a_bits = a;
              b_bits = b;
            }
          }
        }
        if (a_bits == 0) continue;
        const long double up = static_cast<long double>(in_cts) * n * coeff_bits / 8.0L;
        const long double down = static_cast<long double>(out_cts) * n * b_bits / 8.0L +
                                 static_cast<long double>(tr.m * tr.oh * tr.ow) * a_bits / 8.0L;
        const long double prods = static_cast<long double>(ncb) * ngr * real_nh * real_nw;
        // Bytes dominate (download weighted by kDownloadWeight to balance the two directions);
        // compute (products, 64 B-equivalent per limb) breaks near-ties.
        const long double cost = up + kDownloadWeight * down + prods * limbs * 64.0L;
        if (cost < best_cost) {
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
          best.limbs = limbs;
          best.query_drop_bits = drop;
          best.query_coeff_bits = coeff_bits;
          best.weight_terms = terms;
          best.flood_log2 = flood;
          best.c0_bits = a_bits;
          best.c1_bits = b_bits;
          best.noise_log2 = static_cast<double>(std::log2(b_total));
          best.log2_q = c.prefix[limbs - 1].log2_q;
          best.input_cts = in_cts;
          best.output_cts = out_cts;
          best.products = static_cast<std::size_t>(prods);
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
  p.query_bytes = 40 + p.input_cts * detail::packed_bytes(n, p.query_coeff_bits);
  std::size_t resp = 20;
  for (std::size_t gi = 0; gi < p.n_groups; ++gi) {
    const std::size_t m_here = std::min(p.mg, p.out_channels - gi * p.mg);
    for (std::size_t hb = 0; hb < p.n_hblocks; ++hb) {
      const std::size_t h_here = std::min(p.ob_h, p.out_h - hb * p.ob_h);
      for (std::size_t wb = 0; wb < p.n_wblocks; ++wb) {
        const std::size_t w_here = std::min(p.ob_w, p.out_w - wb * p.ob_w);
        resp += detail::packed_bytes(n, p.c1_bits) +
                detail::packed_bytes(m_here * h_here * w_here, p.c0_bits);
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
  return best;
}

}  // namespace pinfer::he
