// SSE2 kernel (baseline x86-64): 16 rows at a time. A 16 x 16 byte transpose (four rounds of
// unpacklo/hi_epi8: each round rotates the 8-bit (row, byte) address left by one, so four give
// the transpose) gathers byte c of the 16 rows in one register; movemask_epi8 then yields bit
// 7 of each, i.e. 16 bits of output row 8c + 7; shifting left by one exposes bit 6, and so on.
#include <emmintrin.h>

#include <cstdint>
#include <cstring>

#include "bit_transpose_kernels.hpp"

namespace pinfer::ot::detail {

void transpose_sse2(const Block* in, std::size_t row_stride, std::size_t n_blocks,
                    Block* out) noexcept {
  auto* dst = reinterpret_cast<uint8_t*>(out);
  for (std::size_t b = 0; b < n_blocks; ++b) {
    uint8_t* tile = dst + b * 128 * 16;
    for (std::size_t g = 0; g < 8; ++g) {  // rows 16g .. 16g+15
      __m128i x[16], y[16];
      for (std::size_t t = 0; t < 16; ++t) {
        x[t] = _mm_load_si128(reinterpret_cast<const __m128i*>(in + (16 * g + t) * row_stride + b));
      }
      for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 8; ++i) {
          y[2 * i] = _mm_unpacklo_epi8(x[i], x[i + 8]);
          y[2 * i + 1] = _mm_unpackhi_epi8(x[i], x[i + 8]);
        }
        for (int i = 0; i < 8; ++i) {
          x[2 * i] = _mm_unpacklo_epi8(y[i], y[i + 8]);
          x[2 * i + 1] = _mm_unpackhi_epi8(y[i], y[i + 8]);
        }
      }
      // x[c] now holds byte c of rows 16g .. 16g+15.
      for (std::size_t c = 0; c < 16; ++c) {
        __m128i v = x[c];
        for (int k = 7; k >= 0; --k) {
          const auto bits = static_cast<uint16_t>(_mm_movemask_epi8(v));
          std::memcpy(tile + (8 * c + k) * 16 + 2 * g, &bits, 2);
          v = _mm_slli_epi64(v, 1);
        }
      }
    }
  }
}

}  // namespace pinfer::ot::detail
