#pragma once
// The execution plan garble_batch / evaluate_batch run for a Circuit: NOT gates disappear and
// wire labels live in a few reused slots.
//
// NOT: under free XOR a negated wire has the same evaluator label and the garbler's zero-label
// is flipped by Delta, so the plan tracks an "inverted" flag per value instead of a gate: XOR
// outputs inherit inv0 ^ inv1, an AND gate tells the garbler kernel which input zero-labels to
// flip, and an inverted output's zero-label is flipped when stored. The evaluator's work for a
// NOT is nothing at all.
// Slots: a value's slot is released after its last reader, so a batch's labels need
// num_slots x batch blocks instead of num_wires x batch, and stay in cache.
#include <cstdint>
#include <vector>

#include "pinfer/gc/circuit.hpp"

namespace pinfer::gc::detail {

struct PlanOp {
  bool is_and;
  bool flip0;  // AND only: the garbler flips input 0's zero-label by Delta
  bool flip1;
  uint32_t s0, s1, out;
};

struct GarblePlan {
  uint32_t num_slots = 0;   // input i lives in slot i
  std::vector<PlanOp> ops;  // XOR and AND in circuit order
  std::vector<uint32_t> output_slots;
  std::vector<uint8_t> output_flip;  // the garbler flips these output zero-labels by Delta
};

[[nodiscard]] GarblePlan make_plan(const Circuit& circuit);

}  // namespace pinfer::gc::detail
