#include "garble_plan.hpp"

#include <limits>

namespace pinfer::gc::detail {

GarblePlan make_plan(const Circuit& circuit) {
  const uint32_t num_wires = circuit.num_wires();
  const auto gates = circuit.gates();
  constexpr uint64_t kForever = std::numeric_limits<uint64_t>::max();

  // Pass 1: each wire -> (value, inverted), where values are inputs and XOR/AND outputs.
  std::vector<uint32_t> value(num_wires);
  std::vector<uint8_t> inv(num_wires, 0);
  for (uint32_t i = 0; i < circuit.num_inputs(); ++i) value[i] = i;
  for (const Gate& g : gates) {
    if (g.op == GateOp::not_gate) {
      value[g.out] = value[g.in0];
      inv[g.out] = inv[g.in0] ^ 1;
    } else {
      value[g.out] = g.out;
      inv[g.out] = (g.op == GateOp::xor_gate) ? (inv[g.in0] ^ inv[g.in1]) : 0;
    }
  }
  // Last reader of each value (gate position); outputs live to the end.
  constexpr uint64_t kUnread = kForever - 1;
  std::vector<uint64_t> last_use(num_wires, kUnread);
  for (std::size_t t = 0; t < gates.size(); ++t) {
    const Gate& g = gates[t];
    if (g.op == GateOp::not_gate) continue;
    last_use[value[g.in0]] = t;
    last_use[value[g.in1]] = t;
  }
  for (uint32_t o : circuit.outputs()) last_use[value[o]] = kForever;

  // Pass 2: slots. Inputs first; an op's output slot is taken before its inputs are freed, so
  // kernels never write a slot they are still reading.
  GarblePlan plan;
  std::vector<uint32_t> slot(num_wires, 0);
  std::vector<uint32_t> free_slots;
  uint32_t next_slot = circuit.num_inputs();
  for (uint32_t i = 0; i < circuit.num_inputs(); ++i) {
    slot[i] = i;
    if (last_use[i] == kUnread) free_slots.push_back(i);  // loaded, never read
  }
  for (std::size_t t = 0; t < gates.size(); ++t) {
    const Gate& g = gates[t];
    if (g.op == GateOp::not_gate) continue;
    uint32_t out;
    if (!free_slots.empty()) {
      out = free_slots.back();
      free_slots.pop_back();
    } else {
      out = next_slot++;
    }
    slot[g.out] = out;
    const uint32_t v0 = value[g.in0], v1 = value[g.in1];
    PlanOp op{g.op == GateOp::and_gate, false, false, slot[v0], slot[v1], out};
    if (op.is_and) {
      op.flip0 = inv[g.in0] != 0;
      op.flip1 = inv[g.in1] != 0;
    }
    plan.ops.push_back(op);
    if (last_use[v0] == t) free_slots.push_back(slot[v0]);
    if (v1 != v0 && last_use[v1] == t) free_slots.push_back(slot[v1]);
    if (last_use[g.out] == kUnread) free_slots.push_back(out);  // dead gate
  }
  plan.num_slots = next_slot;
  for (uint32_t o : circuit.outputs()) {
    plan.output_slots.push_back(slot[value[o]]);
    plan.output_flip.push_back(inv[o]);
  }
  return plan;
}

}  // namespace pinfer::gc::detail
