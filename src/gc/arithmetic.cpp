#include "pinfer/gc/arithmetic.hpp"

#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::gc {
namespace {

void check_widths(const Word& x, const Word& y, const char* what) {
  if (x.size() != y.size() || x.empty()) {
    throw InvalidArgument(std::string(what) + ": word widths " + std::to_string(x.size()) +
                          " and " + std::to_string(y.size()) + " differ or are zero");
  }
}

// Ripple-carry x + y + carry_in; the carry out of the top bit is returned only if asked for.
// Carry step c' = c ^ ((x ^ c) & (y ^ c)): one AND per carry (majority with free XORs).
Word add_with_carry(CircuitBuilder& b, const Word& x, const Word& y, Bit carry, Bit* carry_out) {
  const std::size_t l = x.size();
  Word sum(l, Bit::constant(false));
  for (std::size_t i = 0; i < l; ++i) {
    // x ^ c is shared by the sum and the carry: 4 XOR gates per bit instead of 5.
    const Bit xc = b.xor_(x[i], carry);
    sum[i] = b.xor_(xc, y[i]);
    if (i + 1 < l || carry_out != nullptr) {
      carry = b.xor_(carry, b.and_(xc, b.xor_(y[i], carry)));
    }
  }
  if (carry_out != nullptr) *carry_out = carry;
  return sum;
}

Word invert(CircuitBuilder& b, const Word& x) {
  Word out;
  out.reserve(x.size());
  for (const Bit& bit : x) out.push_back(b.not_(bit));
  return out;
}

}  // namespace

Word add(CircuitBuilder& b, const Word& x, const Word& y) {
  check_widths(x, y, "add");
  return add_with_carry(b, x, y, Bit::constant(false), nullptr);
}

Word sub(CircuitBuilder& b, const Word& x, const Word& y) {
  check_widths(x, y, "sub");
  return add_with_carry(b, x, invert(b, y), Bit::constant(true), nullptr);
}

Bit less_than_unsigned(CircuitBuilder& b, const Word& x, const Word& y) {
  check_widths(x, y, "less_than_unsigned");
  // x - y = x + ~y + 1 carries out of the top bit iff x >= y. Only the carry chain is built:
  // the sum bits are unused, and XOR gates that feed nothing would only cost wire memory.
  Bit carry = Bit::constant(true);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const Bit ny = b.not_(y[i]);
    carry = b.xor_(carry, b.and_(b.xor_(x[i], carry), b.xor_(ny, carry)));
  }
  return b.not_(carry);
}

Bit less_than_signed(CircuitBuilder& b, const Word& x, const Word& y) {
  check_widths(x, y, "less_than_signed");
  // Adding 2^(l-1) to both (flipping the sign bits, free) maps signed order to unsigned order.
  Word xs = x, ys = y;
  xs.back() = b.not_(xs.back());
  ys.back() = b.not_(ys.back());
  return less_than_unsigned(b, xs, ys);
}

Word mux(CircuitBuilder& b, Bit sel, const Word& x, const Word& y) {
  check_widths(x, y, "mux");
  Word out(x.size(), Bit::constant(false));
  for (std::size_t i = 0; i < x.size(); ++i) {
    out[i] = b.xor_(x[i], b.and_(sel, b.xor_(x[i], y[i])));
  }
  return out;
}

Word max_signed(CircuitBuilder& b, const Word& x, const Word& y) {
  return mux(b, less_than_signed(b, x, y), x, y);
}

Word shift_right_arith(const Word& x, unsigned shift) {
  if (shift >= x.size()) {
    throw InvalidArgument("shift_right_arith: shift " + std::to_string(shift) +
                          " must be below the width " + std::to_string(x.size()));
  }
  Word out(x.size(), x.back());
  for (std::size_t i = 0; i + shift < x.size(); ++i) out[i] = x[i + shift];
  return out;
}

Word slice(const Word& x, unsigned from, unsigned count) {
  if (static_cast<std::size_t>(from) + count > x.size()) {
    throw InvalidArgument("slice: bits [" + std::to_string(from) + ", " +
                          std::to_string(from + count) + ") exceed the width " +
                          std::to_string(x.size()));
  }
  return Word(x.begin() + from, x.begin() + from + count);
}

}  // namespace pinfer::gc
