// Portable kernel: 8 x 8 bit blocks, each transposed inside a 64-bit word (Warren, "Hacker's
// Delight", 2nd ed., Section 7-3, transpose8 with three delta swaps).
#include <cstdint>
#include <cstring>

#include "bit_transpose_kernels.hpp"

namespace pinfer::ot::detail {
namespace {

// Byte t of x is row t, bit k of a byte is column k; returns the transpose in the same layout.
inline uint64_t transpose8x8(uint64_t x) {
  uint64_t t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
  x ^= t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
  x ^= t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
  x ^= t ^ (t << 28);
  return x;
}

}  // namespace

void transpose_portable(const Block* in, std::size_t row_stride, std::size_t n_blocks,
                        Block* out) noexcept {
  const auto* src = reinterpret_cast<const uint8_t*>(in);
  auto* dst = reinterpret_cast<uint8_t*>(out);
  const std::size_t row_bytes = 16 * n_blocks;
  const std::size_t stride_bytes = 16 * row_stride;
  for (std::size_t c = 0; c < row_bytes; ++c) {  // byte column: OTs 8c .. 8c+7
    for (std::size_t r0 = 0; r0 < 128; r0 += 8) {
      uint64_t x = 0;
      for (std::size_t t = 0; t < 8; ++t)
        x |= uint64_t{src[(r0 + t) * stride_bytes + c]} << (8 * t);
      x = transpose8x8(x);
      for (std::size_t k = 0; k < 8; ++k) {
        dst[(8 * c + k) * 16 + r0 / 8] = static_cast<uint8_t>(x >> (8 * k));
      }
    }
  }
}

}  // namespace pinfer::ot::detail
