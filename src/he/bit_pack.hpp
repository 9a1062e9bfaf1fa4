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
  std::size_t avail = packed_bytes(count, bits);
  u128 acc = 0;
  unsigned have = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (have < bits) {
      uint64_t word = 0;
      const std::size_t take = avail >= 8 ? 8 : avail;
      std::memcpy(&word, in, take);
      in += take;
      avail -= take;
      acc |= static_cast<u128>(word) << have;
      have += static_cast<unsigned>(8 * take);
    }
    v[i] = static_cast<uint64_t>(acc) & mask;
    acc >>= bits;
    have -= bits;
  }
}

}  // namespace pinfer::he::detail
