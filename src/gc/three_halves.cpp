// Three-halves kernels (formulas in three_halves_kernels.hpp, derivation in docs/GC.md). The
// hash runs in bulk over all labels of a gate step (three_halves_vaes.cpp, three_halves_aesni.cpp,
// or OpenSSL AES here), the slicing arithmetic on 64-bit words.
#include <algorithm>
#include <span>

#include "three_halves_kernels.hpp"

namespace pinfer::gc::detail {
namespace {

// The garbler's linear part: the 5 x 6 GF(2) matrix mapping (Ac_L, Ac_R, Bc_L, Bc_R, Delta_L,
// Delta_R) to (C_L, C_R, G0, G1, G2), found by solving V X = R for every (a, b, rho1, rho2)
// with the paper's V and decoding matrices (docs/GC.md; the test ThreeHalves.
// MatchesLinearAlgebraModel re-solves it from the matrices). With P = A_L^A_R^B_L, Q = A_L^B_R,
// S = A_R^B_L^B_R (the evaluator's decoding combinations) it is
//   C_L = B_L ^ rho1 P ^ rho2 Q ^ [a = b = 0] D_L
//   C_R = A_R ^ rho1 Q ^ rho2 S ^ [a = b = 0] D_R
//   G0  = B_L ^ D_L ^ a (P ^ D_L ^ D_R) ^ b (Q ^ D_R) ^ rho1 D_R ^ rho2 (D_L ^ D_R)
//   G1  = A_R ^ D_R ^ a (Q ^ D_L) ^ b (S ^ D_L ^ D_R) ^ rho1 (D_L ^ D_R) ^ rho2 D_L
//   G2  = a (S ^ D_R) ^ b (P ^ D_L) ^ rho1 D_L ^ rho2 D_R
// (labels are the colour-0 labels Ac, Bc; D = Delta).

inline uint64_t m64(uint64_t bit) {
  return uint64_t{0} - (bit & 1);
}

void tmmo(const Aes128& pi, CpuPath path, Block* x, const uint64_t* tweaks, std::size_t m,
          Block* scratch) noexcept {
  switch (path) {
    case CpuPath::vaes:
      tmmo_inplace_vaes(pi, x, tweaks, m);
      return;
    case CpuPath::aesni:
      tmmo_inplace_aesni(pi, x, tweaks, m);
      return;
    case CpuPath::openssl:
      break;
  }
  tmmo_inplace_portable(pi, x, tweaks, m, scratch);
}

}  // namespace

void tmmo_inplace_portable(const Aes128& pi, Block* x, const uint64_t* tweaks, std::size_t m,
                           Block* s) noexcept {
  pi.encrypt_ecb_with(CpuPath::openssl, std::span<const Block>(x, m), std::span<Block>(s, m));
  for (std::size_t k = 0; k < m; ++k) x[k] = s[k] ^ Block(tweaks[k], 0);
  pi.encrypt_ecb_with(CpuPath::openssl, std::span<const Block>(x, m), std::span<Block>(x, m));
  for (std::size_t k = 0; k < m; ++k) x[k] ^= s[k];
}

void garble_and_three_halves(const Aes128& pi, CpuPath path, const Block* a0_in, const Block* b0_in,
                             const Block& delta, const Block& flip_a, const Block& flip_b,
                             uint64_t gate_index, uint64_t stride, const uint8_t* coins, Block* c0,
                             uint64_t* material, std::size_t n, Block* scratch) noexcept {
  Block* x = scratch;  // 6 per instance: Ac, Ac^D, Bc, Bc^D, Ac^Bc, Ac^Bc^D
  auto* tw = reinterpret_cast<uint64_t*>(scratch + 6 * n);  // 6 n tweaks
  Block* s = scratch + 9 * n;                               // portable: 6 n blocks
  uint64_t* g0 = material;
  uint64_t* g1 = material + n;
  uint64_t* g2 = material + 2 * n;
  uint64_t* planes = material + 3 * n;
  const std::size_t words = plane_words(n);
  // One pass: the six hash inputs and their tweaks, and the linear part of the rows (into c0
  // and g0..g2; the hash part is XORed in after hashing, which overwrites x).
  const uint64_t dl = delta.lo, dr = delta.hi, dlr = dl ^ dr;
  uint64_t t = 3 * gate_index;
  const uint64_t t_step = 3 * stride;
  for (std::size_t i0 = 0; i0 < n; i0 += 64) {
    const std::size_t m = std::min<std::size_t>(64, n - i0);
    uint64_t z[5] = {0, 0, 0, 0, 0};
    for (std::size_t k = 0; k < m; ++k, t += t_step) {
      const std::size_t i = i0 + k;
      tw[6 * i] = tw[6 * i + 1] = t;
      tw[6 * i + 2] = tw[6 * i + 3] = t + 1;
      tw[6 * i + 4] = tw[6 * i + 5] = t + 2;
      const Block a0 = a0_in[i] ^ flip_a, b0 = b0_in[i] ^ flip_b;
      const Block ac = a0 ^ (Block::mask_of(a0.lo) & delta);  // colour 0
      const Block bc = b0 ^ (Block::mask_of(b0.lo) & delta);
      x[6 * i] = ac;
      x[6 * i + 1] = ac ^ delta;
      x[6 * i + 2] = bc;
      x[6 * i + 3] = bc ^ delta;
      x[6 * i + 4] = ac ^ bc;
      x[6 * i + 5] = ac ^ bc ^ delta;
      // Colours at which the AND is 1: a = 1 ^ pa, pa = lsb of the (flipped) zero-label.
      const uint64_t a = (a0.lo & 1) ^ 1, b = (b0.lo & 1) ^ 1;
      const uint64_t rho1 = coins[i] & 1, rho2 = (coins[i] >> 1) & 1;
      const uint64_t ma = m64(a), mb = m64(b), m1 = m64(rho1), m2 = m64(rho2);
      const uint64_t m00 = ~(ma | mb);
      const uint64_t p = ac.lo ^ ac.hi ^ bc.lo, q = ac.lo ^ bc.hi, sv = ac.hi ^ bc.lo ^ bc.hi;
      c0[i] = Block(bc.lo ^ (m1 & p) ^ (m2 & q) ^ (m00 & dl),
                    ac.hi ^ (m1 & q) ^ (m2 & sv) ^ (m00 & dr));
      g0[i] = bc.lo ^ dl ^ (ma & (p ^ dlr)) ^ (mb & (q ^ dr)) ^ (m1 & dr) ^ (m2 & dlr);
      g1[i] = ac.hi ^ dr ^ (ma & (q ^ dl)) ^ (mb & (sv ^ dlr)) ^ (m1 & dlr) ^ (m2 & dl);
      g2[i] = (ma & (sv ^ dr)) ^ (mb & (p ^ dl)) ^ (m1 & dl) ^ (m2 & dr);
      // Control bits before masking: z = (rho1, rho2, a, b, a ^ b).
      z[0] |= rho1 << k;
      z[1] |= rho2 << k;
      z[2] |= a << k;
      z[3] |= b << k;
      z[4] |= (a ^ b) << k;
    }
    for (int pl = 0; pl < 5; ++pl) planes[pl * words + i0 / 64] = z[pl];
  }
  tmmo(pi, path, x, tw, 6 * n, s);
  for (std::size_t i0 = 0; i0 < n; i0 += 64) {
    const std::size_t m = std::min<std::size_t>(64, n - i0);
    uint64_t z[5] = {0, 0, 0, 0, 0};
    for (std::size_t k = 0; k < m; ++k) {
      const std::size_t i = i0 + k;
      const Block* h = x + 6 * i;  // hA0 hA1 hB0 hB1 hX0 hX1 (colour order)
      c0[i] ^= Block(h[0].lo ^ h[4].lo, h[2].lo ^ h[4].lo);
      g0[i] ^= h[0].lo ^ h[1].lo;
      g1[i] ^= h[2].lo ^ h[3].lo;
      g2[i] ^= h[4].lo ^ h[5].lo;
      const uint64_t c[6] = {h[0].hi & 1, h[1].hi & 1, h[2].hi & 1,
                             h[3].hi & 1, h[4].hi & 1, h[5].hi & 1};
      z[0] |= (c[0] ^ c[4]) << k;
      z[1] |= (c[2] ^ c[4]) << k;
      z[2] |= (c[0] ^ c[1]) << k;
      z[3] |= (c[2] ^ c[3]) << k;
      z[4] |= (c[4] ^ c[5]) << k;
    }
    for (int pl = 0; pl < 5; ++pl) planes[pl * words + i0 / 64] ^= z[pl];
  }
}

void eval_and_three_halves(const Aes128& pi, CpuPath path, const Block* a, const Block* b,
                           uint64_t gate_index, uint64_t stride, const uint64_t* material, Block* c,
                           std::size_t n, Block* scratch) noexcept {
  Block* x = scratch;                                       // 3 per instance: A, B, A ^ B
  auto* tw = reinterpret_cast<uint64_t*>(scratch + 3 * n);  // 3 n tweaks
  Block* s = scratch + 5 * n;                               // portable: 3 n blocks
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t t = 3 * (gate_index + i * stride);
    tw[3 * i] = t;
    tw[3 * i + 1] = t + 1;
    tw[3 * i + 2] = t + 2;
    x[3 * i] = a[i];
    x[3 * i + 1] = b[i];
    x[3 * i + 2] = a[i] ^ b[i];
  }
  tmmo(pi, path, x, tw, 3 * n, s);
  const uint64_t* g0 = material;
  const uint64_t* g1 = material + n;
  const uint64_t* g2 = material + 2 * n;
  const uint64_t* planes = material + 3 * n;
  const std::size_t words = plane_words(n);
  for (std::size_t i0 = 0; i0 < n; i0 += 64) {
    const std::size_t m = std::min<std::size_t>(64, n - i0);
    const std::size_t w = i0 / 64;
    const uint64_t z0 = planes[w], z1 = planes[words + w], z2 = planes[2 * words + w];
    const uint64_t z3 = planes[3 * words + w], z4 = planes[4 * words + w];
    for (std::size_t k = 0; k < m; ++k) {
      const std::size_t i = i0 + k;
      const Block* h = x + 3 * i;
      const uint64_t al = a[i].lo, ar = a[i].hi, bl = b[i].lo, br = b[i].hi;
      const uint64_t ci = al & 1, cj = bl & 1, cij = ci ^ cj;
      const uint64_t cx = h[2].hi;
      const uint64_t r0 = (z0 >> k) ^ (ci & (z2 >> k)) ^ (cij & (z4 >> k)) ^ h[0].hi ^ cx;
      const uint64_t r1 = (z1 >> k) ^ (cj & (z3 >> k)) ^ (cij & (z4 >> k)) ^ h[1].hi ^ cx;
      const uint64_t both = m64(cij) & g2[i];
      const uint64_t cl = h[0].lo ^ h[2].lo ^ (m64(ci) & g0[i]) ^ both ^
                          (m64(r0) & (al ^ ar ^ bl)) ^ (m64(r1) & (al ^ br)) ^ (m64(ci ^ 1) & bl);
      const uint64_t cr = h[1].lo ^ h[2].lo ^ (m64(cj) & g1[i]) ^ both ^ (m64(r0) & (al ^ br)) ^
                          (m64(r1) & (ar ^ bl ^ br)) ^ (m64(cj ^ 1) & ar);
      c[i] = Block(cl, cr);
    }
  }
}

}  // namespace pinfer::gc::detail
