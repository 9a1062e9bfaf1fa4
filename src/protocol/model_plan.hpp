#pragma once
// The public plan both parties derive from a model's architecture: for every non-linear stage
// the garbled circuit, how many instances it has, which pre-activation elements feed each
// instance, and where its gate indices, OTs, labels and garbled bytes start. Both sides compute
// it identically, so nothing about it is negotiated.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "pinfer/core/block.hpp"
#include "pinfer/core/delta.hpp"
#include "pinfer/gc/gc_options.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/protocol_kind.hpp"

namespace pinfer::protocol::detail {

struct ChunkRange {
  std::size_t first = 0;  // first instance
  std::size_t count = 0;
};

struct StagePlan {
  std::size_t stage = 0;  // index into model.stages
  std::shared_ptr<const gc::NonlinearCircuit> circuit;
  std::size_t instances = 0;
  unsigned elements = 1;         // pre-activation elements per instance (k^2 for max pooling)
  std::vector<uint32_t> gather;  // [instance][element] -> pre-activation index (max pool only)
  uint64_t gate_index_start = 0;
  uint64_t input_wire_start = 0;  // global index of the stage's first input wire
  std::size_t chunk_instances = 0;
  // The server's garbling scheme (stated in the handshake). Chunks do not depend on it.
  gc::GcScheme scheme = gc::GcScheme::half_gates;

  [[nodiscard]] std::size_t pre_index(std::size_t instance, unsigned element) const {
    return gather.empty() ? instance : gather[instance * elements + element];
  }
  [[nodiscard]] std::vector<ChunkRange> chunks() const;
  // First gate index of a chunk: tweaks never repeat across chunks, stages or calls.
  [[nodiscard]] uint64_t gate_start(const ChunkRange& chunk) const {
    return gate_index_start + chunk.first * circuit->circuit.and_count();
  }
  [[nodiscard]] unsigned l() const { return circuit->ring_bits; }
  // Result words per instance (K for top-k, else 1): the stage's output has instances * outputs
  // elements, each with its own mask r'.
  [[nodiscard]] unsigned outputs() const { return circuit->outputs; }
  // Input wires per instance fed by the online share a (elements * l).
  [[nodiscard]] uint64_t a_bits_per_instance() const { return uint64_t{elements} * l(); }
};

struct ModelPlan {
  const nn::LoweredModel* model = nullptr;
  std::vector<StagePlan> stages;  // the non-final stages, in order
  gc::GcScheme scheme = gc::GcScheme::half_gates;
  uint64_t relus = 0;  // instances of the ReLU step plus max-pool outputs
  uint64_t total_input_wires = 0;
  uint64_t total_and_gates = 0;

  [[nodiscard]] const nn::Stage& stage(const StagePlan& s) const { return model->stages[s.stage]; }
};

// Throws InvalidArgument if a stage's circuit cannot be built for (l, f). `scheme` only changes
// the garbled bytes (and so the storage estimate), never the chunks or gate indices.
[[nodiscard]] ModelPlan make_plan(const nn::LoweredModel& model, gc::GcScheme scheme);

// How one party runs its garbled-circuit work: its threads, and (tests only, to compare runs
// byte for byte) a fixed garbling offset and fixed public hash keys and coin seeds for every
// garble_batch call; empty, the garbler draws a fresh offset per precompute and each call fresh
// keys from the OS as it must (docs/GC.md, "Hash key per call").
struct GcRun {
  unsigned threads = 1;
  std::optional<Delta> delta;
  std::optional<Block> hash_key;
  std::optional<Block> coin_seed;
};
// A production run: `threads` threads, fresh keys per call.
[[nodiscard]] inline GcRun gc_run(unsigned threads) {
  GcRun run;
  run.threads = threads;
  return run;
}

// The scheme, threads and keys one party garbles or evaluates a stage with.
[[nodiscard]] gc::GcOptions gc_options(const StagePlan& stage, const GcRun& run);

// Bytes each side stores per precompute (exact for the garbled tables, labels and bit files;
// the state file holds the HE masks plus at most kStateReserveBytes).
struct StorageEstimate {
  uint64_t client_bytes = 0;
  uint64_t server_bytes = 0;
};
inline constexpr uint64_t kStateReserveBytes = 1 << 20;
[[nodiscard]] StorageEstimate estimate_storage(const ModelPlan& plan, ProtocolKind kind);

}  // namespace pinfer::protocol::detail
