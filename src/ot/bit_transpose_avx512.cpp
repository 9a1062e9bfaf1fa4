// AVX-512BW kernel: the SSE2 scheme on four 128-bit lanes (lane L holds rows 64h + 16L ..
// 64h + 16L + 15), so one movepi8_mask yields 64 bits of an output row.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "bit_transpose_kernels.hpp"

namespace pinfer::ot::detail {

void transpose_avx512(const Block* in, std::size_t row_stride, std::size_t n_blocks,
                      Block* out) noexcept {
  auto* dst = reinterpret_cast<uint8_t*>(out);
  for (std::size_t b = 0; b < n_blocks; ++b) {
    uint8_t* tile = dst + b * 128 * 16;
    for (std::size_t h = 0; h < 2; ++h) {  // rows 64h .. 64h+63
      __m512i x[16], y[16];
      for (std::size_t t = 0; t < 16; ++t) {
        const Block* r = in + (64 * h + t) * row_stride + b;
        const std::size_t lane = 16 * row_stride;  // 16 rows further down
        __m512i v = _mm512_zextsi128_si512(_mm_load_si128(reinterpret_cast<const __m128i*>(r)));
        v = _mm512_inserti32x4(v, _mm_load_si128(reinterpret_cast<const __m128i*>(r + lane)), 1);
        v = _mm512_inserti32x4(v, _mm_load_si128(reinterpret_cast<const __m128i*>(r + 2 * lane)),
                               2);
        v = _mm512_inserti32x4(v, _mm_load_si128(reinterpret_cast<const __m128i*>(r + 3 * lane)),
                               3);
        x[t] = v;
      }
      for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 8; ++i) {
          y[2 * i] = _mm512_unpacklo_epi8(x[i], x[i + 8]);
          y[2 * i + 1] = _mm512_unpackhi_epi8(x[i], x[i + 8]);
        }
        for (int i = 0; i < 8; ++i) {
          x[2 * i] = _mm512_unpacklo_epi8(y[i], y[i + 8]);
          x[2 * i + 1] = _mm512_unpackhi_epi8(y[i], y[i + 8]);
        }
      }
      for (std::size_t c = 0; c < 16; ++c) {
        __m512i v = x[c];
        for (int k = 7; k >= 0; --k) {
          const uint64_t bits = _mm512_movepi8_mask(v);
          std::memcpy(tile + (8 * c + k) * 16 + 8 * h, &bits, 8);
          v = _mm512_add_epi64(v, v);  // << 1 per lane (slli trips a GCC 12 false warning)
        }
      }
    }
  }
}

}  // namespace pinfer::ot::detail
