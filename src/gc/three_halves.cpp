// Three-halves kernels (formulas in three_halves_kernels.hpp, derivation in docs/GC.md). The
// hash runs in bulk over all labels of a gate step through Aes128's dispatched ECB kernels
// (VAES / AES-NI / OpenSSL), the slicing arithmetic on 64-bit words.
#include <span>

#include "three_halves_kernels.hpp"

namespace pinfer::gc::detail {
namespace {

// The garbler's linear part, the 5 x 6 matrix over GF(2) mapping (Ac_L, Ac_R, Bc_L, Bc_R,
// Delta_L, Delta_R) to (C_L, C_R, G0, G1, G2), is affine in the secret bits:
//   T = T0 ^ a Ta ^ b Tb ^ ab Tab ^ rho1 T1 ^ rho2 T2.
// Bit 6r + c is row r, column c. Derived by solving V X = R for every (a, b, rho1, rho2) with
// the paper's V and decoding matrices (docs/GC.md; test ThreeHalves.MatchesLinearAlgebraModel).
constexpr uint32_t kT0 = 0x00894894u;
constexpr uint32_t kTa = 0x2e677810u;
constexpr uint32_t kTb = 0x17fa9810u;
constexpr uint32_t kTab = 0x00000810u;
constexpr uint32_t kT1 = 0x10c20247u;
constexpr uint32_t kT2 = 0x20430389u;

inline uint64_t m64(uint64_t bit) {
  return uint64_t{0} - (bit & 1);
}
inline uint32_t m32(uint32_t bit) {
  return uint32_t{0} - (bit & 1);
}

// out[k] = TMMO(x[k], t_k) in place: s = pi(x); x = pi(s ^ t) ^ s. The tweak of slot k is
// 3 (gate_index + (k / per) * stride) + part[k % per].
template <std::size_t kPer>
void tmmo_bulk(const Aes128& pi, CpuPath path, Block* x, Block* s, std::size_t n,
               uint64_t gate_index, uint64_t stride, const uint8_t (&part)[kPer]) noexcept {
  const std::size_t m = kPer * n;
  pi.encrypt_ecb_with(path, std::span<const Block>(x, m), std::span<Block>(s, m));
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t t = 3 * (gate_index + i * stride);
    for (std::size_t p = 0; p < kPer; ++p) {
      x[kPer * i + p] = s[kPer * i + p] ^ Block(t + part[p], 0);
    }
  }
  pi.encrypt_ecb_with(path, std::span<const Block>(x, m), std::span<Block>(x, m));
  for (std::size_t k = 0; k < m; ++k) x[k] ^= s[k];
}

}  // namespace

void garble_and_three_halves(const Aes128& pi, CpuPath path, const Block* a0_in, const Block* b0_in,
                             const Block& delta, const Block& flip_a, const Block& flip_b,
                             uint64_t gate_index, uint64_t stride, const uint8_t* coins, Block* c0,
                             uint64_t* material, std::size_t n, Block* scratch) noexcept {
  Block* x = scratch;  // 6 per instance: Ac, Ac^D, Bc, Bc^D, Ac^Bc, Ac^Bc^D
  Block* s = scratch + 6 * n;
  for (std::size_t i = 0; i < n; ++i) {
    const Block a = a0_in[i] ^ flip_a, b = b0_in[i] ^ flip_b;
    const Block ac = a ^ (Block::mask_of(a.lo) & delta);  // colour 0
    const Block bc = b ^ (Block::mask_of(b.lo) & delta);
    x[6 * i] = ac;
    x[6 * i + 1] = ac ^ delta;
    x[6 * i + 2] = bc;
    x[6 * i + 3] = bc ^ delta;
    x[6 * i + 4] = ac ^ bc;
    x[6 * i + 5] = ac ^ bc ^ delta;
  }
  uint64_t* g0 = material;
  uint64_t* g1 = material + n;
  uint64_t* g2 = material + 2 * n;
  uint64_t* planes = material + 3 * n;
  const std::size_t words = plane_words(n);
  for (std::size_t w = 0; w < 5 * words; ++w) planes[w] = 0;
  // Linear part first (it needs the colour-0 labels, which hashing overwrites): rows go to
  // c0 (C_L, C_R) and g0..g2; the hash part is XORed in afterwards.
  for (std::size_t i = 0; i < n; ++i) {
    const Block ac = x[6 * i], bc = x[6 * i + 2];
    const uint32_t pa = static_cast<uint32_t>((a0_in[i] ^ flip_a).lo & 1);
    const uint32_t pb = static_cast<uint32_t>((b0_in[i] ^ flip_b).lo & 1);
    const uint32_t ca = pa ^ 1, cb = pb ^ 1;  // colours of the AND's 1
    const uint32_t rho1 = coins[i] & 1, rho2 = (coins[i] >> 1) & 1;
    const uint32_t t = kT0 ^ (m32(ca) & kTa) ^ (m32(cb) & kTb) ^ (m32(ca & cb) & kTab) ^
                       (m32(rho1) & kT1) ^ (m32(rho2) & kT2);
    const uint64_t col[6] = {ac.lo, ac.hi, bc.lo, bc.hi, delta.lo, delta.hi};
    uint64_t row[5];
    for (int r = 0; r < 5; ++r) {
      uint64_t v = 0;
      for (int c = 0; c < 6; ++c) v ^= m64(t >> (6 * r + c)) & col[c];
      row[r] = v;
    }
    c0[i] = Block(row[0], row[1]);
    g0[i] = row[2];
    g1[i] = row[3];
    g2[i] = row[4];
    // Control bits before masking: z = (rho1, rho2, a, b, a ^ b).
    const uint64_t z[5] = {rho1, rho2, ca, cb, ca ^ cb};
    for (int p = 0; p < 5; ++p) planes[p * words + i / 64] |= z[p] << (i % 64);
  }
  static constexpr uint8_t kParts[6] = {0, 0, 1, 1, 2, 2};
  tmmo_bulk<6>(pi, path, x, s, n, gate_index, stride, kParts);
  for (std::size_t i = 0; i < n; ++i) {
    const Block* h = x + 6 * i;  // hA0 hA1 hB0 hB1 hX0 hX1 (colour order)
    c0[i] ^= Block(h[0].lo ^ h[4].lo, h[2].lo ^ h[4].lo);
    g0[i] ^= h[0].lo ^ h[1].lo;
    g1[i] ^= h[2].lo ^ h[3].lo;
    g2[i] ^= h[4].lo ^ h[5].lo;
    const uint64_t c[6] = {h[0].hi & 1, h[1].hi & 1, h[2].hi & 1,
                           h[3].hi & 1, h[4].hi & 1, h[5].hi & 1};
    const uint64_t zm[5] = {c[0] ^ c[4], c[2] ^ c[4], c[0] ^ c[1], c[2] ^ c[3], c[4] ^ c[5]};
    for (int p = 0; p < 5; ++p) planes[p * words + i / 64] ^= zm[p] << (i % 64);
  }
}

void eval_and_three_halves(const Aes128& pi, CpuPath path, const Block* a, const Block* b,
                           uint64_t gate_index, uint64_t stride, const uint64_t* material, Block* c,
                           std::size_t n, Block* scratch) noexcept {
  Block* x = scratch;  // 3 per instance: A, B, A ^ B
  Block* s = scratch + 3 * n;
  for (std::size_t i = 0; i < n; ++i) {
    x[3 * i] = a[i];
    x[3 * i + 1] = b[i];
    x[3 * i + 2] = a[i] ^ b[i];
  }
  static constexpr uint8_t kParts[3] = {0, 1, 2};
  tmmo_bulk<3>(pi, path, x, s, n, gate_index, stride, kParts);
  const uint64_t* g0 = material;
  const uint64_t* g1 = material + n;
  const uint64_t* g2 = material + 2 * n;
  const uint64_t* planes = material + 3 * n;
  const std::size_t words = plane_words(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Block* h = x + 3 * i;
    const uint64_t al = a[i].lo, ar = a[i].hi, bl = b[i].lo, br = b[i].hi;
    const uint64_t ci = al & 1, cj = bl & 1, cij = ci ^ cj;
    uint64_t z[5];
    for (int p = 0; p < 5; ++p) z[p] = (planes[p * words + i / 64] >> (i % 64)) & 1;
    const uint64_t r0 = z[0] ^ (ci & z[2]) ^ (cij & z[4]) ^ (h[0].hi & 1) ^ (h[2].hi & 1);
    const uint64_t r1 = z[1] ^ (cj & z[3]) ^ (cij & z[4]) ^ (h[1].hi & 1) ^ (h[2].hi & 1);
    const uint64_t both = m64(cij) & g2[i];
    const uint64_t cl = h[0].lo ^ h[2].lo ^ (m64(ci) & g0[i]) ^ both ^ (m64(r0) & (al ^ ar ^ bl)) ^
                        (m64(r1) & (al ^ br)) ^ (m64(ci ^ 1) & bl);
    const uint64_t cr = h[1].lo ^ h[2].lo ^ (m64(cj) & g1[i]) ^ both ^ (m64(r0) & (al ^ br)) ^
                        (m64(r1) & (ar ^ bl ^ br)) ^ (m64(cj ^ 1) & ar);
    c[i] = Block(cl, cr);
  }
}

}  // namespace pinfer::gc::detail
