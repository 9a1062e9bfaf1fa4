// VAES half-gates kernels: four instances per 512-bit register, 8 registers of AES in flight
// (formulas in half_gates_kernels.hpp). Permute bits select through AVX-512 mask registers,
// which costs the same whatever the (secret) bit is.
#include <immintrin.h>

#include "half_gates_kernels.hpp"

namespace pinfer::gc::detail {
namespace {

struct Consts {
  __m512i rk[11];
  __m512i one_lo;  // 1 in the low qword of each 128-bit lane
};

inline void init(const Aes128& pi, Consts& c) {
  for (int r = 0; r < 11; ++r) {
    c.rk[r] = _mm512_broadcast_i32x4(
        _mm_load_si128(reinterpret_cast<const __m128i*>(&pi.round_keys().k[r])));
  }
  c.one_lo = _mm512_set_epi64(0, 1, 0, 1, 0, 1, 0, 1);
}

// Mask selecting both qwords of every lane whose label has lsb = 1.
inline __mmask8 lsb_mask(const Consts& c, __m512i x) {
  const __mmask8 k = _mm512_test_epi64_mask(x, c.one_lo);
  return static_cast<__mmask8>(k | (k << 1));
}

template <int kWidth>
inline void encrypt_lanes(const Consts& c, __m512i* x) {
  for (int j = 0; j < kWidth; ++j) x[j] = _mm512_xor_si512(x[j], c.rk[0]);
  for (int r = 1; r < 10; ++r) {
    for (int j = 0; j < kWidth; ++j) x[j] = _mm512_aesenc_epi128(x[j], c.rk[r]);
  }
  for (int j = 0; j < kWidth; ++j) x[j] = _mm512_aesenclast_epi128(x[j], c.rk[10]);
}

// Tweak 2 g_i in the low qword of lane k, for the four instances i .. i+3.
inline __m512i tweaks(uint64_t g, uint64_t stride) {
  const auto t = [&](uint64_t k) { return static_cast<long long>(2 * (g + k * stride)); };
  return _mm512_set_epi64(0, t(3), 0, t(2), 0, t(1), 0, t(0));
}

// kGroups registers of 4 instances each; `mask` limits loads/stores of the last register.
template <int kGroups>
inline void garble_step(const Consts& c, __m512i d, __m512i fa, __m512i fb, const Block* a0,
                        const Block* b0, uint64_t g, uint64_t stride, Block* c0, Block* tg,
                        Block* te, __mmask8 last_mask) {
  __m512i a[kGroups], s[4 * kGroups], x[4 * kGroups], tw[2 * kGroups];
  __mmask8 ka[kGroups], kb[kGroups];
  for (int w = 0; w < kGroups; ++w) {
    const __mmask8 m = (w == kGroups - 1) ? last_mask : 0xFF;
    a[w] = _mm512_xor_si512(_mm512_maskz_loadu_epi64(m, a0 + 4 * w), fa);
    const __m512i b = _mm512_xor_si512(_mm512_maskz_loadu_epi64(m, b0 + 4 * w), fb);
    ka[w] = lsb_mask(c, a[w]);
    kb[w] = lsb_mask(c, b);
    const __m512i j = tweaks(g + 4 * static_cast<uint64_t>(w) * stride, stride);
    const __m512i j1 = _mm512_or_si512(j, c.one_lo);
    s[4 * w] = a[w];
    s[4 * w + 1] = _mm512_xor_si512(a[w], d);
    s[4 * w + 2] = b;
    s[4 * w + 3] = _mm512_xor_si512(b, d);
    tw[2 * w] = j;
    tw[2 * w + 1] = j1;
  }
  encrypt_lanes<4 * kGroups>(c, s);  // s = pi(x)
  for (int w = 0; w < kGroups; ++w) {
    x[4 * w] = _mm512_xor_si512(s[4 * w], tw[2 * w]);
    x[4 * w + 1] = _mm512_xor_si512(s[4 * w + 1], tw[2 * w]);
    x[4 * w + 2] = _mm512_xor_si512(s[4 * w + 2], tw[2 * w + 1]);
    x[4 * w + 3] = _mm512_xor_si512(s[4 * w + 3], tw[2 * w + 1]);
  }
  encrypt_lanes<4 * kGroups>(c, x);
  for (int w = 0; w < kGroups; ++w) {
    const __mmask8 m = (w == kGroups - 1) ? last_mask : 0xFF;
    const __m512i ha0 = _mm512_xor_si512(x[4 * w], s[4 * w]);
    const __m512i ha1 = _mm512_xor_si512(x[4 * w + 1], s[4 * w + 1]);
    const __m512i hb0 = _mm512_xor_si512(x[4 * w + 2], s[4 * w + 2]);
    const __m512i hb1 = _mm512_xor_si512(x[4 * w + 3], s[4 * w + 3]);
    __m512i g_table = _mm512_xor_si512(ha0, ha1);
    g_table = _mm512_mask_xor_epi64(g_table, kb[w], g_table, d);
    const __m512i hb = _mm512_xor_si512(hb0, hb1);
    const __m512i wg0 = _mm512_mask_xor_epi64(ha0, ka[w], ha0, g_table);
    const __m512i we0 = _mm512_mask_xor_epi64(hb0, kb[w], hb0, hb);
    _mm512_mask_storeu_epi64(tg + 4 * w, m, g_table);
    _mm512_mask_storeu_epi64(te + 4 * w, m, _mm512_xor_si512(hb, a[w]));
    _mm512_mask_storeu_epi64(c0 + 4 * w, m, _mm512_xor_si512(wg0, we0));
  }
}

template <int kGroups>
inline void eval_step(const Consts& c, const Block* a, const Block* b, const Block* tg,
                      const Block* te, uint64_t g, uint64_t stride, Block* out,
                      __mmask8 last_mask) {
  __m512i la[kGroups], s[2 * kGroups], x[2 * kGroups];
  __mmask8 ka[kGroups], kb[kGroups];
  for (int w = 0; w < kGroups; ++w) {
    const __mmask8 m = (w == kGroups - 1) ? last_mask : 0xFF;
    la[w] = _mm512_maskz_loadu_epi64(m, a + 4 * w);
    const __m512i lb = _mm512_maskz_loadu_epi64(m, b + 4 * w);
    ka[w] = lsb_mask(c, la[w]);
    kb[w] = lsb_mask(c, lb);
    const __m512i j = tweaks(g + 4 * static_cast<uint64_t>(w) * stride, stride);
    s[2 * w] = la[w];
    s[2 * w + 1] = lb;
    x[2 * w] = j;
    x[2 * w + 1] = _mm512_or_si512(j, c.one_lo);
  }
  encrypt_lanes<2 * kGroups>(c, s);  // s = pi(x)
  for (int w = 0; w < 2 * kGroups; ++w) x[w] = _mm512_xor_si512(x[w], s[w]);
  encrypt_lanes<2 * kGroups>(c, x);
  for (int w = 0; w < kGroups; ++w) {
    const __mmask8 m = (w == kGroups - 1) ? last_mask : 0xFF;
    const __m512i ha = _mm512_xor_si512(x[2 * w], s[2 * w]);
    const __m512i hb = _mm512_xor_si512(x[2 * w + 1], s[2 * w + 1]);
    const __m512i g_table = _mm512_maskz_loadu_epi64(m, tg + 4 * w);
    const __m512i e_table = _mm512_maskz_loadu_epi64(m, te + 4 * w);
    const __m512i wg = _mm512_mask_xor_epi64(ha, ka[w], ha, g_table);
    const __m512i we = _mm512_mask_xor_epi64(hb, kb[w], hb, _mm512_xor_si512(e_table, la[w]));
    _mm512_mask_storeu_epi64(out + 4 * w, m, _mm512_xor_si512(wg, we));
  }
}

inline __m512i broadcast(const Block& b) {
  return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&b)));
}

inline __mmask8 tail_mask(std::size_t m) {
  return static_cast<__mmask8>((1u << (2 * m)) - 1);
}

}  // namespace

void garble_and_vaes(const Aes128& pi, const Block* a0, const Block* b0, const Block& delta,
                     const Block& flip_a, const Block& flip_b, uint64_t gate_index, uint64_t stride,
                     Block* c0, Block* tg, Block* te, std::size_t n) noexcept {
  Consts c;
  init(pi, c);
  const __m512i d =
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&delta)));
  const __m512i fa = broadcast(flip_a), fb = broadcast(flip_b);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    garble_step<2>(c, d, fa, fb, a0 + i, b0 + i, gate_index + i * stride, stride, c0 + i, tg + i,
                   te + i, 0xFF);
  }
  for (; i < n; i += 4) {
    const std::size_t m = n - i < 4 ? n - i : 4;
    garble_step<1>(c, d, fa, fb, a0 + i, b0 + i, gate_index + i * stride, stride, c0 + i, tg + i,
                   te + i, tail_mask(m));
  }
}

void eval_and_vaes(const Aes128& pi, const Block* a, const Block* b, const Block* tg,
                   const Block* te, uint64_t gate_index, uint64_t stride, Block* c,
                   std::size_t n) noexcept {
  Consts k;
  init(pi, k);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    eval_step<4>(k, a + i, b + i, tg + i, te + i, gate_index + i * stride, stride, c + i, 0xFF);
  }
  for (; i < n; i += 4) {
    const std::size_t m = n - i < 4 ? n - i : 4;
    eval_step<1>(k, a + i, b + i, tg + i, te + i, gate_index + i * stride, stride, c + i,
                 tail_mask(m));
  }
}

}  // namespace pinfer::gc::detail
