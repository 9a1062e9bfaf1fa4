#pragma once
// A boolean circuit over free-XOR gates (XOR, NOT) and AND gates, in topological order.
//
// Wires 0 .. num_inputs-1 are the inputs; every gate writes a fresh wire numbered after its
// inputs, so evaluating the gates in order is always valid. NOT costs nothing under free XOR
// (the garbler flips the wire's zero-label by Delta, the evaluator copies its label). Circuits
// are public: both parties hold the same Circuit, and only its AND gates produce garbled tables.
// Build circuits with CircuitBuilder (circuit_builder.hpp), never by hand.
// Thread safety: immutable after construction; may be shared between threads.
#include <cstdint>
#include <span>
#include <vector>

namespace pinfer::gc {

enum class GateOp : uint8_t { xor_gate = 0, and_gate = 1, not_gate = 2 };

struct Gate {
  GateOp op;
  uint32_t in0;
  uint32_t in1;  // unused (0) for not_gate
  uint32_t out;
};

class Circuit {
 public:
  Circuit() = default;
  // Checks the invariants above; throws InvalidArgument if a gate reads a wire that is not yet
  // defined, writes anything but the next wire, or an output names no wire.
  Circuit(uint32_t num_inputs, std::vector<Gate> gates, std::vector<uint32_t> outputs);

  [[nodiscard]] uint32_t num_inputs() const noexcept { return num_inputs_; }
  [[nodiscard]] uint32_t num_wires() const noexcept { return num_wires_; }
  [[nodiscard]] uint32_t num_outputs() const noexcept {
    return static_cast<uint32_t>(outputs_.size());
  }
  // AND gates per instance: each costs two ciphertexts (32 bytes) with half-gates.
  [[nodiscard]] uint64_t and_count() const noexcept { return and_count_; }
  [[nodiscard]] uint64_t xor_count() const noexcept { return xor_count_; }
  [[nodiscard]] uint64_t not_count() const noexcept { return not_count_; }
  [[nodiscard]] std::span<const Gate> gates() const noexcept { return gates_; }
  [[nodiscard]] std::span<const uint32_t> outputs() const noexcept { return outputs_; }

  // Plaintext evaluation, one 0/1 byte per wire; the oracle for tests.
  // Requires: inputs.size() == num_inputs(), outputs.size() == num_outputs().
  void evaluate_plain(std::span<const uint8_t> inputs, std::span<uint8_t> outputs) const;

 private:
  uint32_t num_inputs_ = 0;
  uint32_t num_wires_ = 0;
  uint64_t and_count_ = 0;
  uint64_t xor_count_ = 0;
  uint64_t not_count_ = 0;
  std::vector<Gate> gates_;
  std::vector<uint32_t> outputs_;
};

}  // namespace pinfer::gc
