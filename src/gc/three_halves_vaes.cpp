// VAES TMMO over a buffer of labels, in place: x[k] = pi(pi(x[k]) ^ t_k) ^ pi(x[k]), 4 labels
// per 512-bit register and 8 registers of AES in flight; the three-halves kernels hash all
// labels of a gate step with one call.
#include <immintrin.h>

#include "three_halves_kernels.hpp"

namespace pinfer::gc::detail {
namespace {

template <int kW>
inline void tmmo_step(const __m512i* rk, Block* x, const uint64_t* tw, __mmask8 last_mask) {
  __m512i s[kW], v[kW];
  for (int w = 0; w < kW; ++w) {
    const __mmask8 m = (w == kW - 1) ? last_mask : 0xFF;
    s[w] = _mm512_xor_si512(_mm512_maskz_loadu_epi64(m, x + 4 * w), rk[0]);
  }
  for (int r = 1; r < 10; ++r) {
    for (int w = 0; w < kW; ++w) s[w] = _mm512_aesenc_epi128(s[w], rk[r]);
  }
  for (int w = 0; w < kW; ++w) s[w] = _mm512_aesenclast_epi128(s[w], rk[10]);
  for (int w = 0; w < kW; ++w) {
    // Tweaks of the 4 labels into the low qwords (the expand load fills qwords 0, 2, 4, 6).
    const __mmask8 m = (w == kW - 1) ? static_cast<__mmask8>(last_mask & 0x55) : 0x55;
    const __m512i t = _mm512_maskz_expandloadu_epi64(m, tw + 4 * w);
    v[w] = _mm512_xor_si512(_mm512_xor_si512(s[w], t), rk[0]);
  }
  for (int r = 1; r < 10; ++r) {
    for (int w = 0; w < kW; ++w) v[w] = _mm512_aesenc_epi128(v[w], rk[r]);
  }
  for (int w = 0; w < kW; ++w) {
    const __mmask8 m = (w == kW - 1) ? last_mask : 0xFF;
    v[w] = _mm512_xor_si512(_mm512_aesenclast_epi128(v[w], rk[10]), s[w]);
    _mm512_mask_storeu_epi64(x + 4 * w, m, v[w]);
  }
}

}  // namespace

void tmmo_inplace_vaes(const Aes128& pi, Block* x, const uint64_t* tweaks, std::size_t m) noexcept {
  __m512i rk[11];
  for (int r = 0; r < 11; ++r) {
    rk[r] = _mm512_broadcast_i32x4(
        _mm_load_si128(reinterpret_cast<const __m128i*>(&pi.round_keys().k[r])));
  }
  constexpr std::size_t kStep = 4 * 8;
  std::size_t k = 0;
  for (; k + kStep <= m; k += kStep) tmmo_step<8>(rk, x + k, tweaks + k, 0xFF);
  // Tail: whole registers, the last one masked to the labels that remain.
  while (k < m) {
    const std::size_t left = m - k;
    const std::size_t take = left < 4 ? left : 4;
    const __mmask8 mask = static_cast<__mmask8>((1u << (2 * take)) - 1);
    tmmo_step<1>(rk, x + k, tweaks + k, mask);
    k += take;
  }
}

}  // namespace pinfer::gc::detail

// ---- The three-halves garbler on VAES / AVX-512 ---------------------------------------------
// Same bytes as garble_and_three_halves (formulas in three_halves.cpp), 4 instances per
// register with the label halves in each 128-bit lane's (low, high) qwords. Hash inputs are
// laid out as six planes of n labels (Ac, Ac^D, Bc, Bc^D, Ac^Bc, Ac^Bc^D) so every store is a
// whole register. All secret bits act through mask registers.
namespace pinfer::gc::detail {
namespace {

inline __m512i swap_halves(__m512i v) {
  return _mm512_shuffle_epi32(v, _MM_PERM_BADC);
}

// Both qwords of every lane whose label has lsb = 1.
inline __mmask8 lsb_pairs(__m512i x, __m512i one_lo) {
  const __mmask8 k = _mm512_test_epi64_mask(x, one_lo);
  return static_cast<__mmask8>(k | (k << 1));
}

// Lane j of a 4-lane mask pair (bits 2j, 2j+1) from bit `bit` of coins[j], j < m.
inline __mmask8 coin_pairs(const uint8_t* coins, std::size_t m, int bit) {
  unsigned k = 0;
  for (std::size_t j = 0; j < m && j < 4; ++j) k |= ((coins[j] >> bit) & 1u) * (3u << (2 * j));
  return static_cast<__mmask8>(k);
}

// The 4 odd bits (one per lane) of a mask, packed into a nibble.
inline unsigned odd_nibble(unsigned k) {
  return ((k >> 1) & 1u) | ((k >> 2) & 2u) | ((k >> 3) & 4u) | ((k >> 4) & 8u);
}

inline __mmask8 lane_mask(std::size_t m) {  // lanes 0 .. m-1 of 4, both qwords
  return static_cast<__mmask8>(m >= 4 ? 0xFF : (1u << (2 * m)) - 1);
}

}  // namespace

void garble_and_three_halves_vaes(const Aes128& pi, const Block* a0_in, const Block* b0_in,
                                  const Block& delta, const Block& flip_a, const Block& flip_b,
                                  uint64_t gate_index, uint64_t stride, const uint8_t* coins,
                                  Block* c0, uint64_t* material, std::size_t n,
                                  Block* scratch) noexcept {
  Block* x = scratch;                                       // 6 planes of n labels
  auto* tw = reinterpret_cast<uint64_t*>(scratch + 6 * n);  // 6 planes of n tweaks
  const __m512i d =
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&delta)));
  const __m512i fa =
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&flip_a)));
  const __m512i fb =
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&flip_b)));
  const __m512i one_lo = _mm512_set_epi64(0, 1, 0, 1, 0, 1, 0, 1);
  const __m512i one_hi = _mm512_set_epi64(1, 0, 1, 0, 1, 0, 1, 0);

  // Pass 1: hash inputs and tweaks.
  const __m512i iota3 = _mm512_mullo_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0),
                                           _mm512_set1_epi64(static_cast<long long>(3 * stride)));
  const __m512i step8 = _mm512_set1_epi64(static_cast<long long>(24 * stride));
  const __m512i one = _mm512_set1_epi64(1), two = _mm512_set1_epi64(2);
  __m512i t = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(3 * gate_index)), iota3);
  for (std::size_t i = 0; i < n; i += 8, t = _mm512_add_epi64(t, step8)) {
    const std::size_t left = n - i;
    const __mmask8 m8 = static_cast<__mmask8>(left >= 8 ? 0xFF : (1u << left) - 1);
    const __m512i t1 = _mm512_add_epi64(t, one), t2 = _mm512_add_epi64(t, two);
    _mm512_mask_storeu_epi64(tw + i, m8, t);
    _mm512_mask_storeu_epi64(tw + n + i, m8, t);
    _mm512_mask_storeu_epi64(tw + 2 * n + i, m8, t1);
    _mm512_mask_storeu_epi64(tw + 3 * n + i, m8, t1);
    _mm512_mask_storeu_epi64(tw + 4 * n + i, m8, t2);
    _mm512_mask_storeu_epi64(tw + 5 * n + i, m8, t2);
    for (std::size_t h = 0; h < 8 && h < left; h += 4) {
      const __mmask8 m = lane_mask(left - h);
      const std::size_t k = i + h;
      const __m512i a = _mm512_xor_si512(_mm512_maskz_loadu_epi64(m, a0_in + k), fa);
      const __m512i b = _mm512_xor_si512(_mm512_maskz_loadu_epi64(m, b0_in + k), fb);
      const __m512i ac = _mm512_mask_xor_epi64(a, lsb_pairs(a, one_lo), a, d);  // colour 0
      const __m512i bc = _mm512_mask_xor_epi64(b, lsb_pairs(b, one_lo), b, d);
      const __m512i xab = _mm512_xor_si512(ac, bc);
      _mm512_mask_storeu_epi64(x + k, m, ac);
      _mm512_mask_storeu_epi64(x + n + k, m, _mm512_xor_si512(ac, d));
      _mm512_mask_storeu_epi64(x + 2 * n + k, m, bc);
      _mm512_mask_storeu_epi64(x + 3 * n + k, m, _mm512_xor_si512(bc, d));
      _mm512_mask_storeu_epi64(x + 4 * n + k, m, xab);
      _mm512_mask_storeu_epi64(x + 5 * n + k, m, _mm512_xor_si512(xab, d));
    }
  }
  tmmo_inplace_vaes(pi, x, tw, 6 * n);

  // Pass 2: linear part + hash part, 8 instances at a time.
  uint64_t* g0 = material;
  uint64_t* g1 = material + n;
  uint64_t* g2 = material + 2 * n;
  uint64_t* planes = material + 3 * n;
  const std::size_t words = plane_words(n);
  for (std::size_t w = 0; w < 5 * words; ++w) planes[w] = 0;
  const __m512i ds = swap_halves(d);
  const __m512i dlr = _mm512_xor_si512(d, ds);  // (dl^dr, dl^dr)
  // E1 = (dl^dr, dl), E2 = (dr, dl^dr)
  const __m512i e1 = _mm512_mask_blend_epi64(0xAA, dlr, ds);
  const __m512i e2 = _mm512_mask_blend_epi64(0xAA, ds, dlr);
  const __m512i even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
  for (std::size_t i = 0; i < n; i += 8) {
    const std::size_t left = n - i;
    __m512i gg[2], g2v[2];
    unsigned zb[5] = {0, 0, 0, 0, 0};
    for (int h = 0; h < 2; ++h) {
      const std::size_t k = i + 4 * static_cast<std::size_t>(h);
      const std::size_t avail = left > 4 * static_cast<std::size_t>(h) ? left - 4 * h : 0;
      const __mmask8 m = avail == 0 ? 0 : lane_mask(avail);
      const __m512i a = _mm512_xor_si512(_mm512_maskz_loadu_epi64(m, a0_in + k), fa);
      const __m512i b = _mm512_xor_si512(_mm512_maskz_loadu_epi64(m, b0_in + k), fb);
      const __mmask8 kpa = lsb_pairs(a, one_lo), kpb = lsb_pairs(b, one_lo);
      const __m512i ac = _mm512_mask_xor_epi64(a, kpa, a, d);
      const __m512i bc = _mm512_mask_xor_epi64(b, kpb, b, d);
      const __mmask8 ka = static_cast<__mmask8>(~kpa), kb = static_cast<__mmask8>(~kpb);
      const __mmask8 k00 = static_cast<__mmask8>(kpa & kpb);
      const __mmask8 k1 = avail ? coin_pairs(coins + k, avail, 0) : 0;
      const __mmask8 k2 = avail ? coin_pairs(coins + k, avail, 1) : 0;
      const __m512i acs = swap_halves(ac), bcs = swap_halves(bc);
      const __m512i u = _mm512_xor_si512(acs, bc);
      const __m512i pq = _mm512_mask_blend_epi64(0xAA, _mm512_xor_si512(ac, u), u);  // (P, Q)
      const __m512i wv = _mm512_xor_si512(ac, bcs);
      const __m512i qs = _mm512_mask_blend_epi64(0xAA, wv, _mm512_xor_si512(wv, bc));  // (Q, S)
      const __m512i v1 = _mm512_mask_blend_epi64(0xAA, bc, ac);                        // (B_L, A_R)
      const __m512i ha0 = _mm512_maskz_loadu_epi64(m, x + k);
      const __m512i ha1 = _mm512_maskz_loadu_epi64(m, x + n + k);
      const __m512i hb0 = _mm512_maskz_loadu_epi64(m, x + 2 * n + k);
      const __m512i hb1 = _mm512_maskz_loadu_epi64(m, x + 3 * n + k);
      const __m512i hx0 = _mm512_maskz_loadu_epi64(m, x + 4 * n + k);
      const __m512i hx1 = _mm512_maskz_loadu_epi64(m, x + 5 * n + k);
      // C = (B_L, A_R) ^ rho1 (P, Q) ^ rho2 (Q, S) ^ [a = b = 0] D ^ (hA0 ^ hX0, hB0 ^ hX0).
      __m512i c = _mm512_xor_si512(
          v1, _mm512_xor_si512(_mm512_unpacklo_epi64(ha0, hb0), _mm512_unpacklo_epi64(hx0, hx0)));
      c = _mm512_mask_xor_epi64(c, k1, c, pq);
      c = _mm512_mask_xor_epi64(c, k2, c, qs);
      c = _mm512_mask_xor_epi64(c, k00, c, d);
      _mm512_mask_storeu_epi64(c0 + k, m, c);
      // (G0, G1) = (B_L, A_R) ^ D ^ a ((P, Q) ^ E1) ^ b ((Q, S) ^ E2) ^ rho1 E2 ^ rho2 E1
      //            ^ (hA0 ^ hA1, hB0 ^ hB1).
      __m512i g = _mm512_xor_si512(
          _mm512_xor_si512(v1, d),
          _mm512_unpacklo_epi64(_mm512_xor_si512(ha0, ha1), _mm512_xor_si512(hb0, hb1)));
      g = _mm512_mask_xor_epi64(g, ka, g, _mm512_xor_si512(pq, e1));
      g = _mm512_mask_xor_epi64(g, kb, g, _mm512_xor_si512(qs, e2));
      g = _mm512_mask_xor_epi64(g, k1, g, e2);
      g = _mm512_mask_xor_epi64(g, k2, g, e1);
      gg[h] = g;
      // G2 (low qwords) = a (S ^ D_R) ^ b (P ^ D_L) ^ rho1 D_L ^ rho2 D_R ^ hX0 ^ hX1.
      __m512i g2x = _mm512_xor_si512(hx0, hx1);
      g2x = _mm512_mask_xor_epi64(g2x, ka, g2x, _mm512_xor_si512(swap_halves(qs), ds));
      g2x = _mm512_mask_xor_epi64(g2x, kb, g2x, _mm512_xor_si512(pq, d));
      g2x = _mm512_mask_xor_epi64(g2x, k1, g2x, d);
      g2x = _mm512_mask_xor_epi64(g2x, k2, g2x, ds);
      g2v[h] = g2x;
      // Control bits on the odd (high-qword) mask positions: c(X) = bit 0 of the high word.
      const unsigned ca0 = _mm512_test_epi64_mask(ha0, one_hi);
      const unsigned ca1 = _mm512_test_epi64_mask(ha1, one_hi);
      const unsigned cb0 = _mm512_test_epi64_mask(hb0, one_hi);
      const unsigned cb1 = _mm512_test_epi64_mask(hb1, one_hi);
      const unsigned cx0 = _mm512_test_epi64_mask(hx0, one_hi);
      const unsigned cx1 = _mm512_test_epi64_mask(hx1, one_hi);
      const unsigned valid = m;
      const unsigned sh = 4 * static_cast<unsigned>(h);
      zb[0] |= odd_nibble((k1 ^ ca0 ^ cx0) & valid) << sh;
      zb[1] |= odd_nibble((k2 ^ cb0 ^ cx0) & valid) << sh;
      zb[2] |= odd_nibble((ka ^ ca0 ^ ca1) & valid) << sh;
      zb[3] |= odd_nibble((kb ^ cb0 ^ cb1) & valid) << sh;
      zb[4] |= odd_nibble((ka ^ kb ^ cx0 ^ cx1) & valid) << sh;
    }
    const __mmask8 m8 = static_cast<__mmask8>(left >= 8 ? 0xFF : (1u << left) - 1);
    _mm512_mask_storeu_epi64(g0 + i, m8, _mm512_permutex2var_epi64(gg[0], even, gg[1]));
    _mm512_mask_storeu_epi64(g1 + i, m8, _mm512_permutex2var_epi64(gg[0], odd, gg[1]));
    _mm512_mask_storeu_epi64(g2 + i, m8, _mm512_permutex2var_epi64(g2v[0], even, g2v[1]));
    for (int p = 0; p < 5; ++p) planes[p * words + i / 64] |= uint64_t{zb[p]} << (i % 64);
  }
}

}  // namespace pinfer::gc::detail

// ---- The three-halves evaluator on VAES / AVX-512 -------------------------------------------
namespace pinfer::gc::detail {
namespace {

// Bits 0..3 of a (public) control-bit nibble, each doubled onto both qwords of its lane.
inline __mmask8 pairs_of(unsigned nibble) {
  unsigned k = 0;
  for (int j = 0; j < 4; ++j) k |= ((nibble >> j) & 1u) * (3u << (2 * j));
  return static_cast<__mmask8>(k);
}

inline __mmask8 odd_to_pairs(unsigned k) {
  return static_cast<__mmask8>((k & 0xAA) | ((k & 0xAA) >> 1));
}

}  // namespace

void eval_and_three_halves_vaes(const Aes128& pi, const Block* a, const Block* b,
                                uint64_t gate_index, uint64_t stride, const uint64_t* material,
                                Block* c, std::size_t n, Block* scratch) noexcept {
  Block* x = scratch;                                       // 3 planes: A, B, A ^ B
  auto* tw = reinterpret_cast<uint64_t*>(scratch + 3 * n);  // 3 planes of tweaks
  const __m512i one_lo = _mm512_set_epi64(0, 1, 0, 1, 0, 1, 0, 1);
  const __m512i one_hi = _mm512_set_epi64(1, 0, 1, 0, 1, 0, 1, 0);
  const __m512i iota3 = _mm512_mullo_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0),
                                           _mm512_set1_epi64(static_cast<long long>(3 * stride)));
  const __m512i step8 = _mm512_set1_epi64(static_cast<long long>(24 * stride));
  const __m512i one = _mm512_set1_epi64(1), two = _mm512_set1_epi64(2);
  __m512i t = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(3 * gate_index)), iota3);
  for (std::size_t i = 0; i < n; i += 8, t = _mm512_add_epi64(t, step8)) {
    const std::size_t left = n - i;
    const __mmask8 m8 = static_cast<__mmask8>(left >= 8 ? 0xFF : (1u << left) - 1);
    _mm512_mask_storeu_epi64(tw + i, m8, t);
    _mm512_mask_storeu_epi64(tw + n + i, m8, _mm512_add_epi64(t, one));
    _mm512_mask_storeu_epi64(tw + 2 * n + i, m8, _mm512_add_epi64(t, two));
    for (std::size_t h = 0; h < 8 && h < left; h += 4) {
      const __mmask8 m = lane_mask(left - h);
      const std::size_t k = i + h;
      const __m512i av = _mm512_maskz_loadu_epi64(m, a + k);
      const __m512i bv = _mm512_maskz_loadu_epi64(m, b + k);
      _mm512_mask_storeu_epi64(x + k, m, av);
      _mm512_mask_storeu_epi64(x + n + k, m, bv);
      _mm512_mask_storeu_epi64(x + 2 * n + k, m, _mm512_xor_si512(av, bv));
    }
  }
  tmmo_inplace_vaes(pi, x, tw, 3 * n);

  const uint64_t* g0 = material;
  const uint64_t* g1 = material + n;
  const uint64_t* g2 = material + 2 * n;
  const uint64_t* planes = material + 3 * n;
  const std::size_t words = plane_words(n);
  const __m512i lo_idx = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
  const __m512i hi_idx = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  const __m512i dup_lo = _mm512_set_epi64(3, 3, 2, 2, 1, 1, 0, 0);
  const __m512i dup_hi = _mm512_set_epi64(7, 7, 6, 6, 5, 5, 4, 4);
  for (std::size_t i = 0; i < n; i += 8) {
    const std::size_t left = n - i;
    const __mmask8 m8 = static_cast<__mmask8>(left >= 8 ? 0xFF : (1u << left) - 1);
    const __m512i g0v = _mm512_maskz_loadu_epi64(m8, g0 + i);
    const __m512i g1v = _mm512_maskz_loadu_epi64(m8, g1 + i);
    const __m512i g2v = _mm512_maskz_loadu_epi64(m8, g2 + i);
    const unsigned shift = static_cast<unsigned>(i % 64);
    unsigned zbyte[5];
    for (int p = 0; p < 5; ++p) {
      zbyte[p] = static_cast<unsigned>((planes[p * words + i / 64] >> shift) & 0xFF);
    }
    for (std::size_t h = 0; h < 8 && h < left; h += 4) {
      const __mmask8 m = lane_mask(left - h);
      const std::size_t k = i + h;
      const unsigned sh = static_cast<unsigned>(h);
      const __m512i av = _mm512_maskz_loadu_epi64(m, a + k);
      const __m512i bv = _mm512_maskz_loadu_epi64(m, b + k);
      const __m512i ha = _mm512_maskz_loadu_epi64(m, x + k);
      const __m512i hb = _mm512_maskz_loadu_epi64(m, x + n + k);
      const __m512i hx = _mm512_maskz_loadu_epi64(m, x + 2 * n + k);
      const __mmask8 ki = lsb_pairs(av, one_lo), kj = lsb_pairs(bv, one_lo);
      const __mmask8 kij = static_cast<__mmask8>(ki ^ kj);
      const __mmask8 ca = odd_to_pairs(_mm512_test_epi64_mask(ha, one_hi));
      const __mmask8 cb = odd_to_pairs(_mm512_test_epi64_mask(hb, one_hi));
      const __mmask8 cx = odd_to_pairs(_mm512_test_epi64_mask(hx, one_hi));
      __mmask8 z[5];
      for (int p = 0; p < 5; ++p) z[p] = pairs_of((zbyte[p] >> sh) & 0xF);
      const __mmask8 r0 = static_cast<__mmask8>(z[0] ^ (ki & z[2]) ^ (kij & z[4]) ^ ca ^ cx);
      const __mmask8 r1 = static_cast<__mmask8>(z[1] ^ (kj & z[3]) ^ (kij & z[4]) ^ cb ^ cx);
      const __m512i as = swap_halves(av), bs = swap_halves(bv);
      const __m512i u = _mm512_xor_si512(as, bv);
      const __m512i pq = _mm512_mask_blend_epi64(0xAA, _mm512_xor_si512(av, u), u);  // (P, Q)
      const __m512i wv = _mm512_xor_si512(av, bs);
      const __m512i qs = _mm512_mask_blend_epi64(0xAA, wv, _mm512_xor_si512(wv, bv));  // (Q, S)
      const __m512i v1 = _mm512_mask_blend_epi64(0xAA, bv, av);                        // (B_L, A_R)
      const __m512i g01 = _mm512_permutex2var_epi64(g0v, h == 0 ? lo_idx : hi_idx, g1v);
      const __m512i g22 = _mm512_permutexvar_epi64(h == 0 ? dup_lo : dup_hi, g2v);
      // (C_L, C_R) = (hA ^ hX, hB ^ hX) ^ (i G0, j G1) ^ (i^j) G2 ^ r0 (P, Q) ^ r1 (Q, S)
      //              ^ ((1^i) B_L, (1^j) A_R)
      __m512i cv = _mm512_xor_si512(_mm512_unpacklo_epi64(ha, hb), _mm512_unpacklo_epi64(hx, hx));
      cv = _mm512_mask_xor_epi64(cv, static_cast<__mmask8>((ki & 0x55) | (kj & 0xAA)), cv, g01);
      cv = _mm512_mask_xor_epi64(cv, kij, cv, g22);
      cv = _mm512_mask_xor_epi64(cv, r0, cv, pq);
      cv = _mm512_mask_xor_epi64(cv, r1, cv, qs);
      cv = _mm512_mask_xor_epi64(cv, static_cast<__mmask8>((~ki & 0x55) | (~kj & 0xAA)), cv, v1);
      _mm512_mask_storeu_epi64(c + k, m, cv);
    }
  }
}

}  // namespace pinfer::gc::detail
