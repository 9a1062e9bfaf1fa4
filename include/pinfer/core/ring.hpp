#pragma once
// Arithmetic in the ring Z_2^l, 1 <= l <= 64, on uint64 values reduced by a mask.
//
// Elements are always kept reduced (< 2^l). Signed decoding reads the top bit as the sign (two's
// complement of width l). All operations are branch-free on the values.
#include <cstdint>

namespace pinfer {

class Ring {
 public:
  // Throws InvalidArgument unless 1 <= bits <= 64.
  explicit Ring(unsigned bits);

  [[nodiscard]] unsigned bits() const noexcept { return bits_; }
  [[nodiscard]] uint64_t mask() const noexcept { return mask_; }

  [[nodiscard]] uint64_t reduce(uint64_t v) const noexcept { return v & mask_; }
  [[nodiscard]] uint64_t add(uint64_t a, uint64_t b) const noexcept { return (a + b) & mask_; }
  [[nodiscard]] uint64_t sub(uint64_t a, uint64_t b) const noexcept { return (a - b) & mask_; }
  [[nodiscard]] uint64_t mul(uint64_t a, uint64_t b) const noexcept { return (a * b) & mask_; }
  [[nodiscard]] uint64_t neg(uint64_t a) const noexcept { return (0 - a) & mask_; }

  // The sign bit (bit l-1) of a reduced element.
  [[nodiscard]] uint64_t msb(uint64_t v) const noexcept { return (v >> (bits_ - 1)) & 1; }

  // Two's-complement value of a reduced element, in [-2^(l-1), 2^(l-1)).
  [[nodiscard]] int64_t to_signed(uint64_t v) const noexcept {
    const unsigned shift = 64 - bits_;
    return static_cast<int64_t>(v << shift) >> shift;
  }
  // The ring element congruent to v mod 2^l.
  [[nodiscard]] uint64_t from_signed(int64_t v) const noexcept {
    return static_cast<uint64_t>(v) & mask_;
  }

  // Arithmetic right shift by `shift` of the signed value (exact floor division by 2^shift),
  // re-encoded in the ring. Requires: shift < bits.
  [[nodiscard]] uint64_t shift_right_arith(uint64_t v, unsigned shift) const noexcept {
    return from_signed(to_signed(v) >> shift);
  }

  [[nodiscard]] bool operator==(const Ring& o) const noexcept { return bits_ == o.bits_; }

 private:
  unsigned bits_;
  uint64_t mask_;
};

// Fixed-point numbers in a ring: x is encoded as round(x * 2^f) mod 2^l.
class FixedPoint {
 public:
  // Throws InvalidArgument unless f < ring.bits().
  FixedPoint(Ring ring, unsigned frac_bits);

  [[nodiscard]] const Ring& ring() const noexcept { return ring_; }
  [[nodiscard]] unsigned frac_bits() const noexcept { return frac_bits_; }

  // Round to nearest. Throws InvalidArgument if x is not finite or out of the signed range.
  [[nodiscard]] uint64_t encode(double x) const;
  [[nodiscard]] double decode(uint64_t v) const noexcept;
  // Decodes an element at scale 2^(scale_bits), e.g. a linear-layer output at scale 2f.
  [[nodiscard]] double decode_at_scale(uint64_t v, unsigned scale_bits) const noexcept;

 private:
  Ring ring_;
  unsigned frac_bits_;
};

}  // namespace pinfer
