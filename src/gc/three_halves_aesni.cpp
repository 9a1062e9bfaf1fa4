// AES-NI TMMO over a buffer of labels, in place: x[k] = pi(pi(x[k]) ^ t_k) ^ pi(x[k]), 8 labels
// in flight per pass.
#include <smmintrin.h>
#include <wmmintrin.h>

#include "three_halves_kernels.hpp"

namespace pinfer::gc::detail {
namespace {

template <int kW>
inline void tmmo_step(const __m128i* rk, Block* x, const uint64_t* tw) {
  __m128i s[kW], v[kW];
  for (int w = 0; w < kW; ++w) {
    s[w] = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + w)), rk[0]);
  }
  for (int r = 1; r < 10; ++r) {
    for (int w = 0; w < kW; ++w) s[w] = _mm_aesenc_si128(s[w], rk[r]);
  }
  for (int w = 0; w < kW; ++w) {
    s[w] = _mm_aesenclast_si128(s[w], rk[10]);
    const __m128i t = _mm_cvtsi64_si128(static_cast<long long>(tw[w]));
    v[w] = _mm_xor_si128(_mm_xor_si128(s[w], t), rk[0]);
  }
  for (int r = 1; r < 10; ++r) {
    for (int w = 0; w < kW; ++w) v[w] = _mm_aesenc_si128(v[w], rk[r]);
  }
  for (int w = 0; w < kW; ++w) {
    v[w] = _mm_xor_si128(_mm_aesenclast_si128(v[w], rk[10]), s[w]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(x + w), v[w]);
  }
}

}  // namespace

void tmmo_inplace_aesni(const Aes128& pi, Block* x, const uint64_t* tweaks,
                        std::size_t m) noexcept {
  __m128i rk[11];
  for (int r = 0; r < 11; ++r) {
    rk[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&pi.round_keys().k[r]));
  }
  std::size_t k = 0;
  for (; k + 8 <= m; k += 8) tmmo_step<8>(rk, x + k, tweaks + k);
  for (; k < m; ++k) tmmo_step<1>(rk, x + k, tweaks + k);
}

}  // namespace pinfer::gc::detail
