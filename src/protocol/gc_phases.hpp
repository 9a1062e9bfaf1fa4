#pragma once
// The garbled-circuit parts of both protocols, per side and phase (docs/PROTOCOLS.md).
//
// Every stage is processed in the chunks of its StagePlan, in order, by both sides; a chunk is
// one garble_batch / evaluate_batch call with gate indices stage.gate_index_start +
// first_instance * and_count, and at most one frame each way per step.
//
// Input wires of instance i (gc/nonlinear_circuits.hpp): a_0..a_{E-1} (evaluator), c_0..c_{E-1},
// r' (garbler side of the circuit), l bits each, bit 0 first.
//
// Server-Garbler: the server garbles. Offline the client obtains the labels of its bits of c and
// r' by correlated OT with the server's Delta (the COT outputs are the zero-labels the server
// garbles with) and stores them with the garbled tables; the server keeps Delta, the seed of
// the labels of a and the decode bits. Online the server sends the labels of a, the client
// evaluates and returns the colour bits, the server decodes its new share.
//
// Client-Garbler: the client garbles after the HE step, folding c and r' in as public labels.
// Each bit of a is the XOR of a random-choice COT bit (server's choice, COT output used as
// zero-label) and a flip bit d whose labels come from a client seed; the server stores the
// tables, its COT labels and choices, and the decode bits. Online the server sends d = a ^ c
// and the client the labels of d; the server evaluates and decodes itself. The client keeps
// O(1) state: Delta and the seed of the d labels.
#include <functional>
#include <span>

#include "model_plan.hpp"
#include "pinfer/core/block.hpp"
#include "pinfer/core/byte_stream.hpp"
#include "pinfer/core/channel.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/tensor.hpp"
#include "pinfer/protocol/cost_report.hpp"

namespace pinfer::protocol::detail {

// What a side keeps besides files for the online phase. Secret.
struct GarblerKeys {
  Block delta;       // the garbler's Delta as its state file holds it (zero on the other side)
  Block label_seed;  // Server-Garbler: labels of a; Client-Garbler: labels of d
};

// Client inputs of a stage: its share c of the pre-activation and its output mask r'.
struct ClientStageInputs {
  const RingTensor* c_share = nullptr;   // pre_shape
  const RingTensor* out_mask = nullptr;  // the stage's output activation shape
};

// Threads: every function takes this party's GcRun (model_plan.hpp) with its thread count T
// (>= 1). Garbling and evaluation split each chunk's batches over T threads
// (gc::GcOptions::threads), OT extension its columns and rows, label preparation its instances;
// the bytes sent and stored and their order never depend on T. CPU time of helper threads is
// added to the component that ran them.

// Called after each chunk with the instances done so far in the phase (may be empty).
using ChunkProgress = std::function<void(uint64_t instances_done)>;

// ---- Shared steps
// The bits of the evaluator inputs a_0..a_{E-1} of a chunk's instances, from the server's share
// of the stage pre-activation ([instance][element][bit]).
void gather_share_bits(const StagePlan& stage, const ChunkRange& chunk, const RingTensor& share,
                       std::span<uint8_t> bits);
// Receives one chunk of garbled tables (its exact size is public) and appends it to `out`.
void receive_garbled_chunk(Channel& ch, const StagePlan& stage, const ChunkRange& chunk,
                           ByteSink& out);
// Runs `produce` (which only sends, chunk after chunk) on a second thread while `consume` (which
// only receives) runs on this one, so the peer's work on chunk k overlaps ours on chunk k + 1.
// Each side times into its own PhaseCost / LayerCost; they are merged into cost and layer. If
// either side fails, the channel is closed (waking the other) and the first error is rethrown.
void run_pipelined(Channel& ch, PhaseCost& cost, LayerCost& layer,
                   const std::function<void(PhaseCost&, LayerCost&)>& produce,
                   const std::function<void()>& consume);
// Runs fn(begin, end) over [0, n) in up to `threads` contiguous pieces (the first on this
// thread), or in one piece when n is small; returns the CPU seconds of the helper threads. The
// first exception of any piece is rethrown after all have ended.
double parallel_ranges(unsigned threads, std::size_t n,
                       const std::function<void(std::size_t, std::size_t)>& fn);

// Adds CPU seconds that helper threads spent on `component` (and to the side's CPU total).
inline void add_helper_cpu(PhaseCost& cost, LayerCost* layer, Component component, double s) {
  if (s <= 0) return;
  cost.add(component, s);
  cost.add(Component::cpu_total, s);
  if (layer != nullptr) layer->seconds[std::string(to_string(component))] += s;
}

[[nodiscard]] inline std::span<std::byte> block_bytes(std::span<Block> b) {
  return std::as_writable_bytes(b);
}
[[nodiscard]] inline std::span<const std::byte> block_bytes(std::span<const Block> b) {
  return std::as_bytes(b);
}

// ---- Server-Garbler
[[nodiscard]] GarblerKeys sg_offline_server(Channel& ch, const ModelPlan& plan, Prg& prg,
                                            ByteSink& decode_out, PhaseCost& cost,
                                            const GcRun& run);
void sg_offline_client(Channel& ch, const ModelPlan& plan,
                       std::span<const ClientStageInputs> inputs, Prg& prg, ByteSink& tables_out,
                       ByteSink& labels_out, PhaseCost& cost, const GcRun& run,
                       const ChunkProgress& progress = {});
// Returns the server's share of the stage output.
[[nodiscard]] RingTensor sg_online_server(Channel& ch, const StagePlan& stage,
                                          const RingTensor& a_share, const Shape& out_shape,
                                          const GarblerKeys& keys, ByteSource& decode_in,
                                          PhaseCost& cost, LayerCost& layer, const GcRun& run);
void sg_online_client(Channel& ch, const StagePlan& stage, ByteSource& tables_in,
                      ByteSource& labels_in, PhaseCost& cost, LayerCost& layer, const GcRun& run);

// ---- Client-Garbler
[[nodiscard]] GarblerKeys cg_offline_client(Channel& ch, const ModelPlan& plan,
                                            std::span<const ClientStageInputs> inputs, Prg& prg,
                                            PhaseCost& cost, const GcRun& run,
                                            const ChunkProgress& progress = {});
void cg_offline_server(Channel& ch, const ModelPlan& plan, Prg& prg, ByteSink& tables_out,
                       ByteSink& labels_out, ByteSink& choices_out, ByteSink& decode_out,
                       PhaseCost& cost, const GcRun& run);
[[nodiscard]] RingTensor cg_online_server(Channel& ch, const StagePlan& stage,
                                          const RingTensor& a_share, const Shape& out_shape,
                                          ByteSource& tables_in, ByteSource& labels_in,
                                          ByteSource& choices_in, ByteSource& decode_in,
                                          PhaseCost& cost, LayerCost& layer, const GcRun& run);
void cg_online_client(Channel& ch, const StagePlan& stage, const GarblerKeys& keys, PhaseCost& cost,
                      LayerCost& layer, const GcRun& run);

}  // namespace pinfer::protocol::detail
