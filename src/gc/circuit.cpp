#include "pinfer/gc/circuit.hpp"

#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::gc {

Circuit::Circuit(uint32_t num_inputs, std::vector<Gate> gates, std::vector<uint32_t> outputs)
    : num_inputs_(num_inputs), gates_(std::move(gates)), outputs_(std::move(outputs)) {
  uint64_t next = num_inputs_;
  for (std::size_t g = 0; g < gates_.size(); ++g) {
    const Gate& gate = gates_[g];
    const bool binary = gate.op != GateOp::not_gate;
    if (gate.in0 >= next || (binary && gate.in1 >= next) || gate.out != next ||
        static_cast<uint8_t>(gate.op) > 2) {
      throw InvalidArgument("circuit gate " + std::to_string(g) +
                            " is not in topological order (writes wire " +
                            std::to_string(gate.out) + ", next wire " + std::to_string(next) + ")");
    }
    ++next;
    switch (gate.op) {
      case GateOp::and_gate:
        ++and_count_;
        break;
      case GateOp::xor_gate:
        ++xor_count_;
        break;
      case GateOp::not_gate:
        ++not_count_;
        break;
    }
  }
  if (next > UINT32_MAX) throw InvalidArgument("circuit has more than 2^32 - 1 wires");
  num_wires_ = static_cast<uint32_t>(next);
  for (uint32_t o : outputs_) {
    if (o >= num_wires_) {
      throw InvalidArgument("circuit output wire " + std::to_string(o) + " exceeds num_wires " +
                            std::to_string(num_wires_));
    }
  }
}

void Circuit::evaluate_plain(std::span<const uint8_t> inputs, std::span<uint8_t> outputs) const {
  PINFER_ASSERT(inputs.size() == num_inputs_ && outputs.size() == outputs_.size());
  std::vector<uint8_t> w(num_wires_);
  for (uint32_t i = 0; i < num_inputs_; ++i) w[i] = inputs[i] & 1;
  for (const Gate& g : gates_) {
    switch (g.op) {
      case GateOp::xor_gate:
        w[g.out] = w[g.in0] ^ w[g.in1];
        break;
      case GateOp::and_gate:
        w[g.out] = w[g.in0] & w[g.in1];
        break;
      case GateOp::not_gate:
        w[g.out] = w[g.in0] ^ 1;
        break;
    }
  }
  for (std::size_t o = 0; o < outputs_.size(); ++o) outputs[o] = w[outputs_[o]];
}

}  // namespace pinfer::gc
