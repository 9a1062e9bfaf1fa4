#pragma once
// Gate-level builder for Circuit, with constant folding.
//
// A Bit is either a wire or a public constant. Gates with a constant input are folded away
// (x AND 0 = 0, x AND 1 = x, x XOR 1 = NOT x), so arithmetic blocks written once for the
// general case get the minimal AND count when some bits are known to be constant (e.g. the
// sign bits a ReLU forces to zero). Words are little-endian vectors of Bits (bit 0 first).
// Thread safety: none.
#include <cstdint>
#include <vector>

#include "pinfer/gc/circuit.hpp"

namespace pinfer::gc {

class Bit {
 public:
  [[nodiscard]] static constexpr Bit constant(bool value) { return Bit(value ? kOne : kZero); }
  [[nodiscard]] static constexpr Bit wire(uint32_t id) { return Bit(id); }

  [[nodiscard]] constexpr bool is_constant() const { return id_ >= kZero; }
  [[nodiscard]] constexpr bool constant_value() const { return id_ == kOne; }
  [[nodiscard]] constexpr uint32_t wire_id() const { return id_; }
  constexpr bool operator==(const Bit&) const = default;

 private:
  static constexpr uint32_t kZero = 0xFFFFFFFEu;
  static constexpr uint32_t kOne = 0xFFFFFFFFu;
  explicit constexpr Bit(uint32_t id) : id_(id) {}
  uint32_t id_;
};

using Word = std::vector<Bit>;

class CircuitBuilder {
 public:
  // Inputs must all be declared before the first gate (inputs are wires 0 .. n-1).
  // Throws InvalidArgument if a gate was already added.
  [[nodiscard]] Bit input();
  [[nodiscard]] Word input_word(unsigned bits);

  [[nodiscard]] Bit xor_(Bit a, Bit b);
  [[nodiscard]] Bit and_(Bit a, Bit b);
  [[nodiscard]] Bit not_(Bit a);
  [[nodiscard]] Bit or_(Bit a, Bit b);  // NOT(NOT a AND NOT b): one AND

  // Marks outputs in order. A constant output is materialised on a wire (x XOR x, then NOT
  // for one), which needs at least one input.
  void output(Bit b);
  void output_word(const Word& w);

  [[nodiscard]] uint64_t and_count() const noexcept { return and_count_; }
  // Finishes the circuit; the builder is left empty.
  [[nodiscard]] Circuit build();

 private:
  Bit add_gate(GateOp op, uint32_t in0, uint32_t in1);
  uint32_t num_inputs_ = 0;
  uint32_t next_wire_ = 0;
  uint64_t and_count_ = 0;
  std::vector<Gate> gates_;
  std::vector<uint32_t> outputs_;
};

}  // namespace pinfer::gc
