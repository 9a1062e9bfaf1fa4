#pragma once
// Fast fixed-width bit packing (LSB first, little endian) for ciphertext coefficients on the
// wire; the same layout as pinfer::ByteWriter::packed_bits, 64 bits at a time.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pinfer::he::detail {

[[nodiscard]] inline std::size_t packed_bytes(std::size_t count, unsigned bits) noexcept {
  return (count * bits + 7) / 8;
}

// Writes packed_bytes(count, bits) bytes to out. Requires: 1 <= bits <= 64.
inline void pack_bits(std::byte* out, const uint64_t* v, std::size_t count,
                      unsigned bits) noexcept {
  using u128 = unsigned __int128;
  const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  u128 acc = 0;
  unsigned have = 0;
  for (std::size_t i = 0; i < count; ++i) {
    acc |= static_cast<u128>(v[i] & mask) << have;
    have += bits;
    if (have >= 64) {
      const uint64_t word = static_cast<uint64_t>(acc);
      std::memcpy(out, &word, 8);
      out += 8;
      acc >>= 64;
      have -= 64;
    }
  }
  while (have > 0) {
    *out++ = static_cast<std::byte>(static_cast<uint8_t>(acc));
    acc >>= 8;
    have = have > 8 ? have - 8 : 0;
  }
}

// Reads count values of `bits` bits from in (packed_bytes(count, bits) bytes).
inline void unpack_bits(const std::byte* in, uint64_t* v, std::size_t count,
                        unsigned bits) noexcept {
  using u128 = unsigned __int128;
  const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  const std::size_t total = packed_bytes(count, bits);
  std::size_t i = 0;
  if (bits <= 56) {
    // Value i starts at bit i * bits: one unaligned 8-byte load at its first byte holds all of it
    // (shift <= 7, 7 + 56 <= 64). Values independent of each other, no carried state; the last
    // few, whose load would pass the end, take the streaming path below.
    for (; i < count && (i * bits) / 8 + 8 <= total; ++i) {
      const std::size_t bit = i * bits;
      uint64_t word;
      std::memcpy(&word, in + bit / 8, 8);
      v[i] = (word >> (bit % 8)) & mask;
    }
  }
  const std::size_t start_bit = i * bits;
  const std::byte* p = in + start_bit / 8;
  std::size_t avail = total - start_bit / 8;
  u128 acc = 0;
  unsigned have = 0;
  unsigned skip = static_cast<unsigned>(start_bit % 8);
  for (; i < count; ++i) {
    while (have < bits + skip && avail > 0) {
      uint64_t word = 0;
      const std::size_t take = avail >= 8 ? 8 : avail;
      std::memcpy(&word, p, take);
      p += take;
      avail -= take;
      acc |= static_cast<u128>(word) << have;
      have += static_cast<unsigned>(8 * take);
    }
    if (skip != 0) {
      acc >>= skip;
      have -= skip;
      skip = 0;
    }
    v[i] = static_cast<uint64_t>(acc) & mask;
    acc >>= bits;
    have -= bits;
  }
}

}  // namespace pinfer::he::detail
