#pragma once
// Arithmetic blocks over Z_2^l on little-endian Words, built into a CircuitBuilder.
//
// AND counts (l = word width; fewer when the builder folds constant bits):
//   add, sub                l - 1   (ripple carry, one AND per carry: c' = c ^ ((a^c) & (b^c)),
//                                    the carry out of the top bit is never computed)
//   less_than_(un)signed    l       (the borrow out of a - b)
//   mux                     l       (a ^ (sel & (a ^ b)))
//   max_signed              2l
//   shift_right_arith       0       (wiring: the sign bit is repeated)
// Requires: equal widths (throws InvalidArgument otherwise).
#include "pinfer/gc/circuit_builder.hpp"

namespace pinfer::gc {

// a + b mod 2^l.
[[nodiscard]] Word add(CircuitBuilder& b, const Word& x, const Word& y);
// a - b mod 2^l (a + NOT b + 1).
[[nodiscard]] Word sub(CircuitBuilder& b, const Word& x, const Word& y);
// 1 if x < y as unsigned integers.
[[nodiscard]] Bit less_than_unsigned(CircuitBuilder& b, const Word& x, const Word& y);
// 1 if x < y as two's-complement integers.
[[nodiscard]] Bit less_than_signed(CircuitBuilder& b, const Word& x, const Word& y);
// sel ? y : x.
[[nodiscard]] Word mux(CircuitBuilder& b, Bit sel, const Word& x, const Word& y);
// max(x, y) as two's-complement integers.
[[nodiscard]] Word max_signed(CircuitBuilder& b, const Word& x, const Word& y);
// Arithmetic shift right by `shift` (floor division by 2^shift); free. Requires shift < width.
[[nodiscard]] Word shift_right_arith(const Word& x, unsigned shift);
// Bits [from, from + count) of x, e.g. to narrow a word whose top bits are sign copies.
[[nodiscard]] Word slice(const Word& x, unsigned from, unsigned count);

}  // namespace pinfer::gc
