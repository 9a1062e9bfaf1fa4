// AVX-512 helpers: four labels per XOR; the 8 checksum lanes are exactly one 512-bit register
// (vpmullq from AVX512DQ), so the vector and scalar checksums are the same function.
#include <immintrin.h>

#include "gc_avx512.hpp"

namespace pinfer::gc::detail {

void xor_rows_avx512(const Block* a, const Block* b, Block* out, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i));
    const __m512i x1 =
        _mm512_xor_si512(_mm512_loadu_si512(a + i + 4), _mm512_loadu_si512(b + i + 4));
    _mm512_storeu_si512(out + i, x0);
    _mm512_storeu_si512(out + i + 4, x1);
  }
  for (; i < n; i += 4) {
    const std::size_t m = n - i < 4 ? n - i : 4;
    const __mmask8 k = static_cast<__mmask8>((1u << (2 * m)) - 1);
    const __m512i x =
        _mm512_xor_si512(_mm512_maskz_loadu_epi64(k, a + i), _mm512_maskz_loadu_epi64(k, b + i));
    _mm512_mask_storeu_epi64(out + i, k, x);
  }
}

void checksum_lanes_avx512(uint64_t lanes[8], const std::byte* p, std::size_t blocks) noexcept {
  const __m512i mul = _mm512_set1_epi64(static_cast<long long>(0x9E3779B97F4A7C15ull));
  __m512i h = _mm512_loadu_si512(lanes);
  for (std::size_t i = 0; i < blocks; ++i) {
    const __m512i w = _mm512_loadu_si512(p + 64 * i);
    h = _mm512_mullo_epi64(_mm512_rol_epi64(_mm512_xor_si512(h, w), 23), mul);
  }
  _mm512_storeu_si512(lanes, h);
}

}  // namespace pinfer::gc::detail
