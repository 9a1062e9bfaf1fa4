#pragma once
// Bit strings as pinfer writes them on the wire and in files: LSB first, little endian (bit j
// of the string is bit j % 8 of byte j / 8). Two kinds of input:
//   - 0/1 values, one per byte (OT choice bits, decode and colour bits, circuit input bits),
//     packed eight to a byte: pack_bits / unpack_bits;
//   - values of a fixed width of 1..64 bits (ring elements, ciphertext coefficients) packed back
//     to back: pack_values / unpack_values, or BitWriter / BitReader to stream mixed widths.
// One home for every packer, so every layer writes the same layout.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace pinfer {

// Bytes needed to pack `count` values of `bits` bits. Throws FormatError if count * bits
// overflows (count may come from a peer).
[[nodiscard]] uint64_t packed_size_bytes(uint64_t count, unsigned bits);

// ---- 0/1 values, one per byte

// Bit j of `out` = bits[j] & 1; every byte of `out` past the last bit is zeroed. Branch free in
// the values (choice bits are secret). Requires: out.size() * 8 >= bits.size().
void pack_bits(std::span<const uint8_t> bits, std::span<std::byte> out) noexcept;
[[nodiscard]] std::vector<std::byte> pack_bits(std::span<const uint8_t> bits);
// bits[j] = bit j of `packed` (0 or 1). Requires: packed.size() * 8 >= bits.size().
void unpack_bits(std::span<const std::byte> packed, std::span<uint8_t> bits) noexcept;

// The low out.size() bits of v, bit 0 first, one per byte. Requires: out.size() <= 64.
void word_to_bits(uint64_t v, std::span<uint8_t> out) noexcept;
// The inverse: bits[b] & 1 is bit b of the result. Requires: bits.size() <= 64.
[[nodiscard]] uint64_t word_from_bits(std::span<const uint8_t> bits) noexcept;

// ---- values of a fixed width

// Packs the low `bits` bits of each value into exactly packed_size_bytes(values.size(), bits)
// bytes of `out`. Requires: 1 <= bits <= 64 and out.size() equal to that size.
void pack_values(std::span<const uint64_t> values, unsigned bits,
                 std::span<std::byte> out) noexcept;
// Reads out.size() values of `bits` bits. Requires: 1 <= bits <= 64 and
// in.size() == packed_size_bytes(out.size(), bits).
void unpack_values(std::span<const std::byte> in, unsigned bits, std::span<uint64_t> out) noexcept;

// Streams values of up to 64 bits each into a bit string, 64 bits at a time: whole words are
// stored as soon as they are complete, so nothing is written past ceil(total bits / 8) bytes.
// Requires: the caller sized the output for every bit it puts.
class BitWriter {
 public:
  explicit BitWriter(std::byte* out) noexcept : out_(out) {}
  // Requires: bits <= 64.
  void put(uint64_t v, unsigned bits) noexcept {
    if (bits == 0) return;
    if (bits < 64) v &= (uint64_t{1} << bits) - 1;
    acc_ |= static_cast<u128>(v) << have_;  // have_ < 64, so at most 127 bits
    have_ += bits;
    if (have_ >= 64) {
      const auto word = static_cast<uint64_t>(acc_);
      std::memcpy(out_, &word, 8);
      out_ += 8;
      acc_ >>= 64;
      have_ -= 64;
    }
  }
  // Writes the last partial word's bytes. Call once at the end.
  void flush() noexcept {
    while (have_ > 0) {
      *out_++ = static_cast<std::byte>(static_cast<uint8_t>(acc_));
      acc_ >>= 8;
      have_ = have_ > 8 ? have_ - 8 : 0;
    }
    acc_ = 0;
  }

 private:
  using u128 = unsigned __int128;
  std::byte* out_;
  u128 acc_ = 0;
  unsigned have_ = 0;
};

// Reads such a bit string back, 64 bits at a time; reads zeros past the end of its `bytes`.
class BitReader {
 public:
  BitReader(const std::byte* in, std::size_t bytes) noexcept : in_(in), left_(bytes) {}
  // Requires: bits <= 64.
  [[nodiscard]] uint64_t get(unsigned bits) noexcept {
    if (have_ < bits) {
      uint64_t word = 0;
      const std::size_t take = left_ >= 8 ? 8 : left_;
      if (take > 0) std::memcpy(&word, in_, take);
      in_ += take;
      left_ -= take;
      acc_ |= static_cast<u128>(word) << have_;  // have_ < 64
      have_ += 64;                               // past the end the missing bytes read as zeros
    }
    const uint64_t v = bits == 64 ? static_cast<uint64_t>(acc_)
                                  : static_cast<uint64_t>(acc_) & ((uint64_t{1} << bits) - 1);
    acc_ >>= bits;
    have_ -= bits;
    return v;
  }

 private:
  using u128 = unsigned __int128;
  const std::byte* in_;
  std::size_t left_;
  u128 acc_ = 0;
  unsigned have_ = 0;
};

}  // namespace pinfer
