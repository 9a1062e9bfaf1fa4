// VAES kernels: four AES blocks per 512-bit register, four registers (16 blocks) in flight.
#include <immintrin.h>

#include "aes_kernels.hpp"

namespace pinfer::detail {
namespace {

template <int kWidth>
inline void encrypt_lanes(const __m512i* rk, __m512i* x) {
  for (int j = 0; j < kWidth; ++j) x[j] = _mm512_xor_si512(x[j], rk[0]);
  for (int r = 1; r < 10; ++r) {
    for (int j = 0; j < kWidth; ++j) x[j] = _mm512_aesenc_epi128(x[j], rk[r]);
  }
  for (int j = 0; j < kWidth; ++j) x[j] = _mm512_aesenclast_epi128(x[j], rk[10]);
}

inline void broadcast_keys(const AesRoundKeys& keys, __m512i* rk) {
  for (int r = 0; r < 11; ++r) {
    rk[r] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(&keys.k[r])));
  }
}

}  // namespace

void aes_ecb_vaes(const AesRoundKeys& keys, const Block* in, Block* out, std::size_t n) noexcept {
  __m512i rk[11];
  broadcast_keys(keys, rk);
  std::size_t i = 0;
  __m512i x[4];
  for (; i + 16 <= n; i += 16) {
    for (int j = 0; j < 4; ++j) x[j] = _mm512_loadu_si512(in + i + 4 * j);
    encrypt_lanes<4>(rk, x);
    for (int j = 0; j < 4; ++j) _mm512_storeu_si512(out + i + 4 * j, x[j]);
  }
  for (; i < n; i += 4) {
    const std::size_t m = std::min<std::size_t>(4, n - i);
    const __mmask8 mask = static_cast<__mmask8>((1u << (2 * m)) - 1);
    x[0] = _mm512_maskz_loadu_epi64(mask, in + i);
    encrypt_lanes<1>(rk, x);
    _mm512_mask_storeu_epi64(out + i, mask, x[0]);
  }
}

void aes_ctr_vaes(const AesRoundKeys& keys, uint64_t counter, uint64_t nonce, Block* out,
                  std::size_t n) noexcept {
  __m512i rk[11];
  broadcast_keys(keys, rk);
  const long long c = static_cast<long long>(counter);
  const long long h = static_cast<long long>(nonce);
  // Lane k of register j holds Block(counter + i + 4j + k, nonce).
  const __m512i base = _mm512_set_epi64(h, c + 3, h, c + 2, h, c + 1, h, c);
  const __m512i step4 = _mm512_set_epi64(0, 4, 0, 4, 0, 4, 0, 4);
  const __m512i step16 = _mm512_set_epi64(0, 16, 0, 16, 0, 16, 0, 16);
  __m512i ctr = base;
  std::size_t i = 0;
  __m512i x[4];
  for (; i + 16 <= n; i += 16) {
    x[0] = ctr;
    x[1] = _mm512_add_epi64(x[0], step4);
    x[2] = _mm512_add_epi64(x[1], step4);
    x[3] = _mm512_add_epi64(x[2], step4);
    ctr = _mm512_add_epi64(ctr, step16);
    encrypt_lanes<4>(rk, x);
    for (int j = 0; j < 4; ++j) _mm512_storeu_si512(out + i + 4 * j, x[j]);
  }
  for (; i < n; i += 4) {
    const std::size_t m = std::min<std::size_t>(4, n - i);
    const __mmask8 mask = static_cast<__mmask8>((1u << (2 * m)) - 1);
    x[0] = ctr;
    ctr = _mm512_add_epi64(ctr, step4);
    encrypt_lanes<1>(rk, x);
    _mm512_mask_storeu_epi64(out + i, mask, x[0]);
  }
}

}  // namespace pinfer::detail
