#pragma once
// Coefficient layout of a planned linear layer, shared by client and server (docs/HE.md,
// "Packing"). Everything here depends only on public shapes.
#include <cstddef>
#include <cstdint>
#include <variant>

#include "he/context_impl.hpp"
#include "he/mod_arith.hpp"
#include "pinfer/he/linear.hpp"

namespace pinfer::he::detail {

struct Layout {
  const LinearPlan& p;
  const LinearGeometry& g;
  // For one part of a row-split layer (linear_parts.hpp): where the part's input and output rows
  // start in the whole layer's tensors, and their heights (0: the part is the whole layer).
  std::size_t in_row0 = 0, full_in_h = 0, out_row0 = 0, full_out_h = 0;

  [[nodiscard]] std::size_t area() const { return p.ib_h * p.ib_w; }
  [[nodiscard]] std::size_t n_in() const { return p.cw * area(); }
  // Coefficient of output (oi, y=0, z=0) relative to the group offset oi * n_in.
  [[nodiscard]] std::size_t out_offset() const {
    return (p.cw - 1) * area() + (p.kernel_h - 1) * p.ib_w + (p.kernel_w - 1);
  }
  [[nodiscard]] std::size_t input_ct(std::size_t cb, std::size_t hb, std::size_t wb) const {
    return (cb * p.n_hblocks + hb) * p.n_wblocks + wb;
  }

  // Index into the flattened input r of transformed element (c', u, v), or -1 for a zero
  // (padding, beyond the tensor, or a block past the last channel).
  [[nodiscard]] int64_t input_index(std::size_t cp, std::size_t u, std::size_t v) const {
    if (cp >= p.channels || u >= p.height || v >= p.width) return -1;
    if (std::holds_alternative<FcGeometry>(g)) return static_cast<int64_t>(cp);
    const auto& cv = std::get<ConvGeometry>(g);
    const std::size_t c = cp / (p.phase_h * p.phase_w);
    const std::size_t a = (cp / p.phase_w) % p.phase_h, b = cp % p.phase_w;
    const int64_t row =
        static_cast<int64_t>(cv.stride_h * u + a) - static_cast<int64_t>(cv.pad_top);
    const int64_t col =
        static_cast<int64_t>(cv.stride_w * v + b) - static_cast<int64_t>(cv.pad_left);
    if (row < 0 || col < 0 || row >= static_cast<int64_t>(cv.in_h) ||
        col >= static_cast<int64_t>(cv.in_w)) {
      return -1;
    }
    const std::size_t in_h = full_in_h != 0 ? full_in_h : cv.in_h;
    return (static_cast<int64_t>(c) * static_cast<int64_t>(in_h) + static_cast<int64_t>(in_row0) +
            row) *
               static_cast<int64_t>(cv.in_w) +
           col;
  }

  // Index into the weights of transformed kernel entry (o, c', i', j'), or -1 for a zero.
  [[nodiscard]] int64_t weight_index(std::size_t o, std::size_t cp, std::size_t i,
                                     std::size_t j) const {
    if (std::holds_alternative<FcGeometry>(g)) {
      return static_cast<int64_t>(o * p.channels + cp);
    }
    const auto& cv = std::get<ConvGeometry>(g);
    const std::size_t c = cp / (p.phase_h * p.phase_w);
    const std::size_t a = (cp / p.phase_w) % p.phase_h, b = cp % p.phase_w;
    const std::size_t ki = cv.stride_h * i + a, kj = cv.stride_w * j + b;
    if (ki >= cv.kernel_h || kj >= cv.kernel_w) return -1;
    return static_cast<int64_t>(((o * cv.in_channels + c) * cv.kernel_h + ki) * cv.kernel_w + kj);
  }

  // Calls f(coefficient, output index) for every useful coefficient of output ciphertext
  // (group, hb, wb), in wire order.
  template <typename F>
  void for_each_output(std::size_t group, std::size_t hb, std::size_t wb, F&& f) const {
    const std::size_t base = out_offset();
    const std::size_t out_h = full_out_h != 0 ? full_out_h : p.out_h;
    for (std::size_t oi = 0; oi < p.mg; ++oi) {
      const std::size_t o = group * p.mg + oi;
      if (o >= p.out_channels) break;
      for (std::size_t y = 0; y < p.ob_h; ++y) {
        const std::size_t oy = hb * p.ob_h + y;
        if (oy >= p.out_h) break;
        for (std::size_t z = 0; z < p.ob_w; ++z) {
          const std::size_t ox = wb * p.ob_w + z;
          if (ox >= p.out_w) break;
          f(oi * n_in() + base + y * p.ib_w + z, (o * out_h + out_row0 + oy) * p.out_w + ox);
        }
      }
    }
  }
  [[nodiscard]] std::size_t useful_count(std::size_t group, std::size_t hb, std::size_t wb) const {
    const std::size_t m = std::min(p.mg, p.out_channels - group * p.mg);
    const std::size_t h = std::min(p.ob_h, p.out_h - hb * p.ob_h);
    const std::size_t w = std::min(p.ob_w, p.out_w - wb * p.ob_w);
    return m * h * w;
  }
};

// round(Q_L * m / t) mod p_i for m in [0, t) (BFV encoding with exact rounding, docs/HE.md eq. 1):
// with B = (Q_L mod t) * m mod t, round(Q_L m / t) = (Q_L m - B) / t + [2B >= t], and
// (Q_L m - B) / t = -B * t^-1 mod p_i because p_i divides Q_L. Secret: m (branch-free).
[[nodiscard]] inline uint64_t encode_scaled(const ContextImpl& c, std::size_t L, std::size_t i,
                                            uint64_t m) noexcept {
  const unsigned l = c.params.plain_bits;
  const uint64_t tmask = (uint64_t{1} << l) - 1;
  const uint64_t p = c.params.primes[i];
  const uint64_t b = (c.prefix[L - 1].q_mod_2_64 * m) & tmask;
  const uint64_t x = reduce_once(mul_shoup_lazy(b, c.t_inv[i], c.t_inv_q[i], p), p);
  uint64_t v = p - x + (b >> (l - 1));  // in [1, p + 1]
  v = reduce_once(v, p);
  return v;
}

// floor(Q_L m / t) + [u < B] mod p_i with B = (Q_L m) mod t and u uniform in [0, t): randomised
// rounding of Q_L m / t, so the rounding error delta is zero-mean with |delta| < 1 and variance
// <= 1/4 (this keeps the expected product noise small, docs/HE.md eq. 4). The same u must be
// used for every limb of a coefficient. Secret: m, u (branch-free).
[[nodiscard]] inline uint64_t encode_scaled_randomized(const ContextImpl& c, std::size_t L,
                                                       std::size_t i, uint64_t m,
                                                       uint64_t u) noexcept {
  const unsigned l = c.params.plain_bits;
  const uint64_t tmask = (uint64_t{1} << l) - 1;
  const uint64_t p = c.params.primes[i];
  const uint64_t b = (c.prefix[L - 1].q_mod_2_64 * m) & tmask;
  const uint64_t x = reduce_once(mul_shoup_lazy(b, c.t_inv[i], c.t_inv_q[i], p), p);
  const uint64_t up = (u - b) >> 63;  // u < b (both < 2^44)
  return reduce_once(p - x + up, p);
}

}  // namespace pinfer::he::detail
