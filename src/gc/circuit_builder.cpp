#include "pinfer/gc/circuit_builder.hpp"

#include "pinfer/core/error.hpp"

namespace pinfer::gc {

Bit CircuitBuilder::input() {
  if (!gates_.empty()) throw InvalidArgument("circuit inputs must be declared before any gate");
  ++num_inputs_;
  return Bit::wire(next_wire_++);
}

Word CircuitBuilder::input_word(unsigned bits) {
  Word w;
  w.reserve(bits);
  for (unsigned i = 0; i < bits; ++i) w.push_back(input());
  return w;
}

Bit CircuitBuilder::add_gate(GateOp op, uint32_t in0, uint32_t in1) {
  gates_.push_back(Gate{op, in0, in1, next_wire_});
  if (op == GateOp::and_gate) ++and_count_;
  return Bit::wire(next_wire_++);
}

Bit CircuitBuilder::xor_(Bit a, Bit b) {
  if (a.is_constant() && b.is_constant()) {
    return Bit::constant(a.constant_value() != b.constant_value());
  }
  if (a.is_constant()) std::swap(a, b);
  if (b.is_constant()) return b.constant_value() ? not_(a) : a;
  return add_gate(GateOp::xor_gate, a.wire_id(), b.wire_id());
}

Bit CircuitBuilder::and_(Bit a, Bit b) {
  if (a.is_constant() && b.is_constant()) {
    return Bit::constant(a.constant_value() && b.constant_value());
  }
  if (a.is_constant()) std::swap(a, b);
  if (b.is_constant()) return b.constant_value() ? a : Bit::constant(false);
  if (a == b) return a;
  return add_gate(GateOp::and_gate, a.wire_id(), b.wire_id());
}

Bit CircuitBuilder::not_(Bit a) {
  if (a.is_constant()) return Bit::constant(!a.constant_value());
  return add_gate(GateOp::not_gate, a.wire_id(), 0);
}

Bit CircuitBuilder::or_(Bit a, Bit b) {
  return not_(and_(not_(a), not_(b)));
}

void CircuitBuilder::output(Bit b) {
  if (b.is_constant()) {
    if (num_inputs_ == 0) throw InvalidArgument("a constant circuit output needs an input wire");
    // x ^ x is a wire whose zero-label is the all-zero block on both sides.
    const Bit zero = add_gate(GateOp::xor_gate, 0, 0);
    b = b.constant_value() ? add_gate(GateOp::not_gate, zero.wire_id(), 0) : zero;
  }
  outputs_.push_back(b.wire_id());
}

void CircuitBuilder::output_word(const Word& w) {
  for (const Bit& b : w) output(b);
}

Circuit CircuitBuilder::build() {
  Circuit c(num_inputs_, std::move(gates_), std::move(outputs_));
  *this = CircuitBuilder();
  return c;
}

}  // namespace pinfer::gc
