// AVX2 kernel: the SSE2 scheme on two 128-bit lanes at once (unpack works per lane): the low
// lane holds rows 32h .. 32h+15, the high lane rows 32h+16 .. 32h+31, so one movemask yields
// 32 bits of an output row.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "bit_transpose_kernels.hpp"

namespace pinfer::ot::detail {

void transpose_avx2(const Block* in, std::size_t row_stride, std::size_t n_blocks,
                    Block* out) noexcept {
  auto* dst = reinterpret_cast<uint8_t*>(out);
  for (std::size_t b = 0; b < n_blocks; ++b) {
    uint8_t* tile = dst + b * 128 * 16;
    for (std::size_t h = 0; h < 4; ++h) {  // rows 32h .. 32h+31
      __m256i x[16], y[16];
      for (std::size_t t = 0; t < 16; ++t) {
        const __m128i lo =
            _mm_load_si128(reinterpret_cast<const __m128i*>(in + (32 * h + t) * row_stride + b));
        const __m128i hi = _mm_load_si128(
            reinterpret_cast<const __m128i*>(in + (32 * h + 16 + t) * row_stride + b));
        x[t] = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
      }
      for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 8; ++i) {
          y[2 * i] = _mm256_unpacklo_epi8(x[i], x[i + 8]);
          y[2 * i + 1] = _mm256_unpackhi_epi8(x[i], x[i + 8]);
        }
        for (int i = 0; i < 8; ++i) {
          x[2 * i] = _mm256_unpacklo_epi8(y[i], y[i + 8]);
          x[2 * i + 1] = _mm256_unpackhi_epi8(y[i], y[i + 8]);
        }
      }
      for (std::size_t c = 0; c < 16; ++c) {
        __m256i v = x[c];
        for (int k = 7; k >= 0; --k) {
          const auto bits = static_cast<uint32_t>(_mm256_movemask_epi8(v));
          std::memcpy(tile + (8 * c + k) * 16 + 4 * h, &bits, 4);
          v = _mm256_slli_epi64(v, 1);
        }
      }
    }
  }
}

}  // namespace pinfer::ot::detail
