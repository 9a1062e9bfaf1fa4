// AES-NI half-gates kernels: several instances per step so 8 independent AES blocks are in
// flight, hiding the aesenc latency (formulas in half_gates_kernels.hpp).
#include <smmintrin.h>
#include <wmmintrin.h>

#include "half_gates_kernels.hpp"

namespace pinfer::gc::detail {
namespace {

inline __m128i load(const Block* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
inline void store(Block* p, __m128i x) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), x);
}

// All-ones if lsb(x) = 1 (branch-free: the colour bit is secret to the garbler).
inline __m128i lsb_mask(__m128i x) {
  return _mm_srai_epi32(_mm_slli_epi32(_mm_shuffle_epi32(x, 0x00), 31), 31);
}

inline __m128i tweak(uint64_t t) {
  return _mm_set_epi64x(0, static_cast<long long>(t));
}

template <int kWidth>
inline void encrypt_lanes(const __m128i* rk, __m128i* x) {
  for (int j = 0; j < kWidth; ++j) x[j] = _mm_xor_si128(x[j], rk[0]);
  for (int r = 1; r < 10; ++r) {
    for (int j = 0; j < kWidth; ++j) x[j] = _mm_aesenc_si128(x[j], rk[r]);
  }
  for (int j = 0; j < kWidth; ++j) x[j] = _mm_aesenclast_si128(x[j], rk[10]);
}

template <int kW>
inline void garble_step(const __m128i* rk, const Block* a0, const Block* b0, __m128i d, __m128i fa,
                        __m128i fb, uint64_t g, uint64_t stride, Block* c0, Block* tg, Block* te) {
  __m128i a[kW], b[kW], s[4 * kW], x[4 * kW], tw[2 * kW];
  for (int w = 0; w < kW; ++w) {
    a[w] = _mm_xor_si128(load(a0 + w), fa);
    b[w] = _mm_xor_si128(load(b0 + w), fb);
    const uint64_t gi = g + static_cast<uint64_t>(w) * stride;
    const __m128i j = tweak(2 * gi), j1 = tweak(2 * gi + 1);
    s[4 * w] = a[w];
    s[4 * w + 1] = _mm_xor_si128(a[w], d);
    s[4 * w + 2] = b[w];
    s[4 * w + 3] = _mm_xor_si128(b[w], d);
    tw[2 * w] = j;
    tw[2 * w + 1] = j1;
  }
  encrypt_lanes<4 * kW>(rk, s);  // s = pi(x)
  for (int w = 0; w < kW; ++w) {
    x[4 * w] = _mm_xor_si128(s[4 * w], tw[2 * w]);
    x[4 * w + 1] = _mm_xor_si128(s[4 * w + 1], tw[2 * w]);
    x[4 * w + 2] = _mm_xor_si128(s[4 * w + 2], tw[2 * w + 1]);
    x[4 * w + 3] = _mm_xor_si128(s[4 * w + 3], tw[2 * w + 1]);
  }
  encrypt_lanes<4 * kW>(rk, x);
  for (int w = 0; w < kW; ++w) {
    const __m128i ha0 = _mm_xor_si128(x[4 * w], s[4 * w]);
    const __m128i ha1 = _mm_xor_si128(x[4 * w + 1], s[4 * w + 1]);
    const __m128i hb0 = _mm_xor_si128(x[4 * w + 2], s[4 * w + 2]);
    const __m128i hb1 = _mm_xor_si128(x[4 * w + 3], s[4 * w + 3]);
    const __m128i pa = lsb_mask(a[w]), pb = lsb_mask(b[w]);
    const __m128i g_table = _mm_xor_si128(_mm_xor_si128(ha0, ha1), _mm_and_si128(pb, d));
    const __m128i hb = _mm_xor_si128(hb0, hb1);
    const __m128i wg0 = _mm_xor_si128(ha0, _mm_and_si128(pa, g_table));
    const __m128i we0 = _mm_xor_si128(hb0, _mm_and_si128(pb, hb));
    store(tg + w, g_table);
    store(te + w, _mm_xor_si128(hb, a[w]));
    store(c0 + w, _mm_xor_si128(wg0, we0));
  }
}

template <int kW>
inline void eval_step(const __m128i* rk, const Block* a, const Block* b, const Block* tg,
                      const Block* te, uint64_t g, uint64_t stride, Block* c) {
  __m128i la[kW], lb[kW], s[2 * kW], x[2 * kW];
  for (int w = 0; w < kW; ++w) {
    la[w] = load(a + w);
    lb[w] = load(b + w);
    const uint64_t gi = g + static_cast<uint64_t>(w) * stride;
    s[2 * w] = la[w];
    s[2 * w + 1] = lb[w];
    x[2 * w] = tweak(2 * gi);
    x[2 * w + 1] = tweak(2 * gi + 1);
  }
  encrypt_lanes<2 * kW>(rk, s);  // s = pi(x)
  for (int w = 0; w < 2 * kW; ++w) x[w] = _mm_xor_si128(x[w], s[w]);
  encrypt_lanes<2 * kW>(rk, x);
  for (int w = 0; w < kW; ++w) {
    const __m128i ha = _mm_xor_si128(x[2 * w], s[2 * w]);
    const __m128i hb = _mm_xor_si128(x[2 * w + 1], s[2 * w + 1]);
    const __m128i wg = _mm_xor_si128(ha, _mm_and_si128(lsb_mask(la[w]), load(tg + w)));
    const __m128i we =
        _mm_xor_si128(hb, _mm_and_si128(lsb_mask(lb[w]), _mm_xor_si128(load(te + w), la[w])));
    store(c + w, _mm_xor_si128(wg, we));
  }
}

inline void load_keys(const Aes128& pi, __m128i* rk) {
  for (int r = 0; r < 11; ++r) {
    rk[r] = _mm_load_si128(reinterpret_cast<const __m128i*>(&pi.round_keys().k[r]));
  }
}

}  // namespace

void garble_and_aesni(const Aes128& pi, const Block* a0, const Block* b0, const Block& delta,
                      const Block& flip_a, const Block& flip_b, uint64_t gate_index,
                      uint64_t stride, Block* c0, Block* tg, Block* te, std::size_t n) noexcept {
  __m128i rk[11];
  load_keys(pi, rk);
  const __m128i d = load(&delta), fa = load(&flip_a), fb = load(&flip_b);
  std::size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    garble_step<2>(rk, a0 + i, b0 + i, d, fa, fb, gate_index + i * stride, stride, c0 + i, tg + i,
                   te + i);
  }
  for (; i < n; ++i) {
    garble_step<1>(rk, a0 + i, b0 + i, d, fa, fb, gate_index + i * stride, stride, c0 + i, tg + i,
                   te + i);
  }
}

void eval_and_aesni(const Aes128& pi, const Block* a, const Block* b, const Block* tg,
                    const Block* te, uint64_t gate_index, uint64_t stride, Block* c,
                    std::size_t n) noexcept {
  __m128i rk[11];
  load_keys(pi, rk);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    eval_step<4>(rk, a + i, b + i, tg + i, te + i, gate_index + i * stride, stride, c + i);
  }
  for (; i < n; ++i) {
    eval_step<1>(rk, a + i, b + i, tg + i, te + i, gate_index + i * stride, stride, c + i);
  }
}

}  // namespace pinfer::gc::detail
