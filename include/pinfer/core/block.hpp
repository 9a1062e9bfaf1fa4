#pragma once
// A 128-bit block: AES state, PRG output unit, garbled-circuit label, OT message.
#include <cstdint>
#include <cstring>

namespace pinfer {

struct alignas(16) Block {
  uint64_t lo = 0;
  uint64_t hi = 0;

  constexpr Block() = default;
  constexpr Block(uint64_t low, uint64_t high) : lo(low), hi(high) {}

  constexpr Block operator^(const Block& o) const { return {lo ^ o.lo, hi ^ o.hi}; }
  constexpr Block& operator^=(const Block& o) {
    lo ^= o.lo;
    hi ^= o.hi;
    return *this;
  }
  constexpr Block operator&(const Block& o) const { return {lo & o.lo, hi & o.hi}; }
  // Not constant time in the sense of ct_equal; use only on public values.
  constexpr bool operator==(const Block& o) const = default;

  // Least significant bit: the point-and-permute (colour) bit of a label.
  [[nodiscard]] constexpr bool lsb() const { return (lo & 1) != 0; }
  // All-ones if bit is 1, all-zeros otherwise; for branch-free selection.
  [[nodiscard]] static constexpr Block mask_of(uint64_t bit) {
    const uint64_t m = 0 - (bit & 1);
    return {m, m};
  }
};

static_assert(sizeof(Block) == 16);

// Constant-time comparison of two blocks.
[[nodiscard]] inline bool ct_equal(const Block& a, const Block& b) {
  const uint64_t d = (a.lo ^ b.lo) | (a.hi ^ b.hi);
  return ((d | (0 - d)) >> 63) == 0;
}

}  // namespace pinfer
