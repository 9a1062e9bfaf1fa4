// AES-NI kernels: 8 independent blocks in flight to hide the aesenc latency.
#include <smmintrin.h>
#include <wmmintrin.h>

#include "aes_kernels.hpp"

namespace pinfer::detail {
namespace {

inline __m128i expand_step(__m128i key, __m128i gen) {
  gen = _mm_shuffle_epi32(gen, 0xff);
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, gen);
}

inline __m128i load(const Block& b) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(&b));
}

template <int kWidth>
inline void encrypt_lanes(const __m128i* rk, __m128i* x) {
  for (int j = 0; j < kWidth; ++j) x[j] = _mm_xor_si128(x[j], rk[0]);
  for (int r = 1; r < 10; ++r) {
    for (int j = 0; j < kWidth; ++j) x[j] = _mm_aesenc_si128(x[j], rk[r]);
  }
  for (int j = 0; j < kWidth; ++j) x[j] = _mm_aesenclast_si128(x[j], rk[10]);
}

}  // namespace

void aes_expand_aesni(const Block& key, AesRoundKeys& out) noexcept {
  __m128i k = load(key);
  __m128i* rk = reinterpret_cast<__m128i*>(out.k.data());
  rk[0] = k;
#define PINFER_EXPAND(i, rcon)                            \
  k = expand_step(k, _mm_aeskeygenassist_si128(k, rcon)); \
  rk[i] = k;
  PINFER_EXPAND(1, 0x01)
  PINFER_EXPAND(2, 0x02)
  PINFER_EXPAND(3, 0x04)
  PINFER_EXPAND(4, 0x08)
  PINFER_EXPAND(5, 0x10)
  PINFER_EXPAND(6, 0x20)
  PINFER_EXPAND(7, 0x40)
  PINFER_EXPAND(8, 0x80)
  PINFER_EXPAND(9, 0x1b)
  PINFER_EXPAND(10, 0x36)
#undef PINFER_EXPAND
}

void aes_ecb_aesni(const AesRoundKeys& keys, const Block* in, Block* out, std::size_t n) noexcept {
  __m128i rk[11];
  for (int r = 0; r < 11; ++r) rk[r] = load(keys.k[r]);
  std::size_t i = 0;
  __m128i x[8];
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j)
      x[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + j));
    encrypt_lanes<8>(rk, x);
    for (int j = 0; j < 8; ++j) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + j), x[j]);
  }
  for (; i < n; ++i) {
    x[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    encrypt_lanes<1>(rk, x);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), x[0]);
  }
}

void aes_ctr_aesni(const AesRoundKeys& keys, uint64_t counter, uint64_t nonce, Block* out,
                   std::size_t n) noexcept {
  __m128i rk[11];
  for (int r = 0; r < 11; ++r) rk[r] = load(keys.k[r]);
  const __m128i hi = _mm_set_epi64x(static_cast<long long>(nonce), 0);
  std::size_t i = 0;
  __m128i x[8];
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) {
      x[j] = _mm_or_si128(hi, _mm_set_epi64x(0, static_cast<long long>(counter + i + j)));
    }
    encrypt_lanes<8>(rk, x);
    for (int j = 0; j < 8; ++j) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + j), x[j]);
  }
  for (; i < n; ++i) {
    x[0] = _mm_or_si128(hi, _mm_set_epi64x(0, static_cast<long long>(counter + i)));
    encrypt_lanes<1>(rk, x);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), x[0]);
  }
}

}  // namespace pinfer::detail
