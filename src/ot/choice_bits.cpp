#include "choice_bits.hpp"

#include <emmintrin.h>  // SSE2 is part of baseline x86-64

#include <algorithm>
#include <cstring>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::ot::detail {

void check_choice_bits(std::span<const uint8_t> bits, const char* field) {
  uint8_t acc = 0;
  for (const uint8_t b : bits) acc |= b;
  if ((acc & 0xFE) != 0) {
    throw InvalidArgument(std::string(field) + " must hold one 0/1 value per byte");
  }
}

void pack_choice_bits(std::span<const uint8_t> bits, std::span<Block> out) noexcept {
  auto* dst = reinterpret_cast<uint16_t*>(out.data());
  std::fill(out.begin(), out.end(), Block());
  std::size_t j = 0;
  // 16 choices -> 16 bits: move bit 0 of each byte to bit 7, then movemask.
  for (; j + 16 <= bits.size(); j += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bits.data() + j));
    dst[j / 16] = static_cast<uint16_t>(_mm_movemask_epi8(_mm_slli_epi64(v, 7)));
  }
  auto* bytes = reinterpret_cast<uint8_t*>(out.data());
  for (; j < bits.size(); ++j) {
    bytes[j / 8] = static_cast<uint8_t>(bytes[j / 8] | ((bits[j] & 1u) << (j % 8)));
  }
}

void unpack_choice_bits(std::span<const Block> in, std::span<uint8_t> out) noexcept {
  const auto* bytes = reinterpret_cast<const uint8_t*>(in.data());
  for (std::size_t j = 0; j < out.size(); ++j) {
    out[j] = static_cast<uint8_t>((bytes[j / 8] >> (j % 8)) & 1u);
  }
}

}  // namespace pinfer::ot::detail
