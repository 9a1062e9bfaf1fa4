#include "pinfer/core/bit_packing.hpp"

#include <emmintrin.h>  // SSE2 is part of baseline x86-64

#include <algorithm>

#include "pinfer/core/checked_math.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

[[nodiscard]] uint64_t low_mask(unsigned bits) noexcept {
  return bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
}

}  // namespace

uint64_t packed_size_bytes(uint64_t count, unsigned bits) {
  return checked_add(checked_mul(count, bits, "packed bit count"), 7) / 8;
}

void pack_bits(std::span<const uint8_t> bits, std::span<std::byte> out) noexcept {
  PINFER_ASSERT(out.size() * 8 >= bits.size());
  std::fill(out.begin(), out.end(), std::byte{0});
  std::size_t j = 0;
  // 16 values -> 16 bits: move bit 0 of each byte to bit 7, then movemask (no branch on values).
  for (; j + 16 <= bits.size(); j += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bits.data() + j));
    const auto word = static_cast<uint16_t>(_mm_movemask_epi8(_mm_slli_epi64(v, 7)));
    std::memcpy(out.data() + j / 8, &word, 2);
  }
  for (; j < bits.size(); ++j) {
    out[j / 8] |= static_cast<std::byte>((bits[j] & 1u) << (j % 8));
  }
}

std::vector<std::byte> pack_bits(std::span<const uint8_t> bits) {
  std::vector<std::byte> out((bits.size() + 7) / 8);
  pack_bits(bits, out);
  return out;
}

void unpack_bits(std::span<const std::byte> packed, std::span<uint8_t> bits) noexcept {
  PINFER_ASSERT(packed.size() * 8 >= bits.size());
  for (std::size_t j = 0; j < bits.size(); ++j) {
    bits[j] = static_cast<uint8_t>((std::to_integer<unsigned>(packed[j / 8]) >> (j % 8)) & 1u);
  }
}

void word_to_bits(uint64_t v, std::span<uint8_t> out) noexcept {
  PINFER_ASSERT(out.size() <= 64);
  for (std::size_t b = 0; b < out.size(); ++b) out[b] = static_cast<uint8_t>((v >> b) & 1);
}

uint64_t word_from_bits(std::span<const uint8_t> bits) noexcept {
  PINFER_ASSERT(bits.size() <= 64);
  uint64_t v = 0;
  for (std::size_t b = 0; b < bits.size(); ++b) v |= uint64_t{bits[b] & 1u} << b;
  return v;
}

void pack_values(std::span<const uint64_t> values, unsigned bits,
                 std::span<std::byte> out) noexcept {
  PINFER_ASSERT(bits >= 1 && bits <= 64 && out.size() == (values.size() * bits + 7) / 8);
  BitWriter w(out.data());
  const uint64_t mask = low_mask(bits);
  for (const uint64_t v : values) w.put(v & mask, bits);
  w.flush();
}

void unpack_values(std::span<const std::byte> in, unsigned bits, std::span<uint64_t> out) noexcept {
  PINFER_ASSERT(bits >= 1 && bits <= 64 && in.size() == (out.size() * bits + 7) / 8);
  const uint64_t mask = low_mask(bits);
  const std::size_t total = in.size();
  std::size_t i = 0;
  if (bits <= 56) {
    // Value i starts at bit i * bits: one unaligned 8-byte load at its first byte holds all of
    // it (shift <= 7, 7 + 56 <= 64). Values independent of each other, no carried state; the
    // last few, whose load would pass the end, take the streaming path below.
    for (; i < out.size() && (i * bits) / 8 + 8 <= total; ++i) {
      const std::size_t bit = i * bits;
      uint64_t word;
      std::memcpy(&word, in.data() + bit / 8, 8);
      out[i] = (word >> (bit % 8)) & mask;
    }
  }
  // The rest from the byte holding value i's first bit.
  const std::size_t start_bit = i * bits;
  BitReader r(in.data() + start_bit / 8, total - start_bit / 8);
  if (start_bit % 8 != 0) (void)r.get(static_cast<unsigned>(start_bit % 8));
  for (; i < out.size(); ++i) out[i] = r.get(bits);
}

}  // namespace pinfer
