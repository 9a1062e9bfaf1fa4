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
