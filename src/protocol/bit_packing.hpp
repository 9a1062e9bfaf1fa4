#pragma once
// Packing of 0/1 bytes into wire bits (bit j of byte j/8), and ring words to/from bits, for
// the per-chunk messages of the online phase.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pinfer::protocol::detail {

[[nodiscard]] inline std::size_t packed_bytes(std::size_t bits) {
  return (bits + 7) / 8;
}

inline void pack_bits(std::span<const uint8_t> bits, std::span<std::byte> out) noexcept {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::byte{0};
  for (std::size_t j = 0; j < bits.size(); ++j) {
    out[j / 8] |= std::byte(static_cast<uint8_t>((bits[j] & 1) << (j % 8)));
  }
}

[[nodiscard]] inline std::vector<std::byte> pack_bits(std::span<const uint8_t> bits) {
  std::vector<std::byte> out(packed_bytes(bits.size()));
  pack_bits(bits, out);
  return out;
}

inline void unpack_bits(std::span<const std::byte> packed, std::span<uint8_t> bits) noexcept {
  for (std::size_t j = 0; j < bits.size(); ++j) {
    bits[j] = static_cast<uint8_t>((static_cast<uint8_t>(packed[j / 8]) >> (j % 8)) & 1);
  }
}

// Appends the low `l` bits of v, bit 0 first.
inline void append_word_bits(uint64_t v, unsigned l, uint8_t* out) noexcept {
  for (unsigned b = 0; b < l; ++b) out[b] = static_cast<uint8_t>((v >> b) & 1);
}

[[nodiscard]] inline uint64_t word_from_bits(const uint8_t* bits, unsigned l) noexcept {
  uint64_t v = 0;
  for (unsigned b = 0; b < l; ++b) v |= uint64_t{bits[b] & 1u} << b;
  return v;
}

}  // namespace pinfer::protocol::detail
