#pragma once
// Half-gates garbling (Zahur, Rosulek, Evans, "Two halves make a whole", EUROCRYPT 2015, Sec. 3)
// with free XOR (Kolesnikov-Schneider 2008) and point-and-permute, batched over many instances of
// one circuit and streamed through a ByteSink / ByteSource.
//
// Labels are 128-bit Blocks; the garbler's global offset Delta has lsb(Delta) = 1, so the colour
// bit of a wire's zero-label is its permute bit. Each AND gate costs two ciphertexts (32 bytes)
// and 4 (garble) / 2 (evaluate) calls of the tweakable circular correlation-robust hash TMMO
//     H(x, j) = pi(pi(x) ^ j) ^ pi(x)      (two AES calls per hash)
// with pi = AES-128 under a public key drawn fresh for each call and sent in the stream header
// (fixed-key analysis: Guo, Katz, Wang, Yu, "Efficient and secure
// multiparty computation from fixed-key block ciphers", IEEE S&P 2020, Sec. 7.4). Tweaks must
// never repeat under one Delta: instance i (0-based within a call), AND gate k (in circuit order)
// uses gate index g = gate_index_start + i * and_count + k and tweaks 2g, 2g + 1. Each call
// returns the next free index; the caller threads it through a whole precompute.
//
// Kernels: VAES (AVX-512, 4 labels per register), AES-NI (pipelined), portable (OpenSSL AES);
// all give identical bytes. The default is gc_active_path(); tests pass a path explicitly.
//
// Three-halves (Rosulek-Roy, CRYPTO 2021) is the second scheme (GcOptions::scheme, docs/GC.md):
// 1.5 kappa + 5 bits per AND, hash TMMO as well, tweaks 3g, 3g + 1, 3g + 2.
// Stream format (little endian), written by garble_batch and checked by evaluate_batch:
//   header  u64 magic "PNFGC001", u32 version (2), u32 batch_instances, u64 circuit digest,
//           u64 and_count, u64 instances, u64 gate_index_start, u32 scheme, u32 0,
//           16-byte public hash key of this call                                      (72 B)
//   per batch of n <= batch_instances instances:
//           u32 batch magic, u32 n, u64 batch number                                 (16 B)
//           for each AND gate k: half-gates: n garbler-half ciphertexts, then n
//           evaluator-half (32 n B); three-halves: G0[n], G1[n], G2[n] (8 B each), then 5
//           control-bit planes of ceil(n / 64) words (24 n + 40 ceil(n / 64) B)
//           16-byte checksum over (stream header, batch header, tables)
// Memory: a call holds its input and output labels ([instance][wire]) but only one batch of wire
// labels and tables. For layers too large for that, call once per chunk of instances, passing
// next_gate_index on: each call appends a self-framed segment to the same sink, and the evaluator
// makes the same calls in the same order on the source (a channel sink's total is the sum of
// garbled_stream_bytes over the chunks).
// Threads: GcOptions::threads splits one call's batches over that many threads; the bytes and
// their order are the same for every thread count. Calls share no state; chunks may also be
// garbled on several threads at once with disjoint gate-index ranges and their own sinks.
// Any header field that differs from what the evaluator expects, a short stream, or a checksum
// mismatch throws FormatError. The checksum detects storage and transport corruption; it is not
// a MAC (a semi-honest evaluator trusts the garbler, see docs/GC.md).
#include <cstdint>
#include <span>

#include "pinfer/core/block.hpp"
#include "pinfer/core/byte_stream.hpp"
#include "pinfer/core/cpu_features.hpp"
#include "pinfer/core/delta.hpp"
#include "pinfer/gc/circuit.hpp"
#include "pinfer/gc/gc_options.hpp"

namespace pinfer::gc {

inline constexpr uint64_t kAndTableBytes = 32;  // half-gates: two 128-bit ciphertexts per AND
inline constexpr uint64_t kStreamHeaderBytes = 72;
inline constexpr uint64_t kBatchOverheadBytes = 32;  // batch header + checksum
// Gate indices must stay below this so that the tweaks (2g + 1, 3g + 2) fit in 64 bits.
inline constexpr uint64_t kMaxGateIndex = uint64_t{1} << 62;

// Work counted inside the kernels (not computed from the arguments).
struct GarbleStats {
  uint64_t and_gates = 0;  // AND gates garbled or evaluated (all instances)
  uint64_t instances = 0;
  uint64_t table_bytes = 0;      // garbled-table bytes written or read
  uint64_t stream_bytes = 0;     // all bytes written or read, framing included
  uint64_t next_gate_index = 0;  // pass as gate_index_start of the next call
  // CPU seconds of the call's worker threads (threads > 1); the calling thread's are not in it,
  // so a caller that times its own thread adds this to count the call's whole CPU.
  double worker_cpu_seconds = 0;
};

// Instances garbled together (one batch); a function of the circuit only, so both sides agree.
[[nodiscard]] uint32_t batch_instances(const Circuit& circuit);
// Exact table bytes of one batch of n instances under `scheme`.
[[nodiscard]] uint64_t batch_table_bytes(const Circuit& circuit, GcScheme scheme, uint64_t n);
// Exact stream bytes of one garble_batch call. Throws InvalidArgument on overflow.
[[nodiscard]] uint64_t garbled_stream_bytes(const Circuit& circuit, uint64_t instances,
                                            GcScheme scheme = GcScheme::half_gates);

// Garbles `instances` = input_zero_labels.size() / circuit.num_inputs() copies of `circuit`.
// Secret: input_zero_labels, delta, output_zero_labels.
//   input_zero_labels   [instance][input wire] zero-labels (from LabelDeriver, OT, or folded)
//   delta               global offset (lsb 1 by construction)
//   output_zero_labels  out: [instance][output] zero-labels; their lsbs are the decode bits
// Throws InvalidArgument on mismatched sizes, an empty circuit, threads = 0, or a gate index
// range reaching kMaxGateIndex; errors of the sink propagate.
[[nodiscard]] GarbleStats garble_batch(const Circuit& circuit,
                                       std::span<const Block> input_zero_labels, const Delta& delta,
                                       uint64_t gate_index_start, ByteSink& sink,
                                       std::span<Block> output_zero_labels,
                                       const GcOptions& options);
// Half-gates on one thread (the original API).
[[nodiscard]] GarbleStats garble_batch(const Circuit& circuit,
                                       std::span<const Block> input_zero_labels, const Delta& delta,
                                       uint64_t gate_index_start, ByteSink& sink,
                                       std::span<Block> output_zero_labels,
                                       CpuPath path = gc_active_path());

// Evaluates the instances garbled by the matching garble_batch call (the hash key comes from
// the stream header; options.scheme must match the header's).
// Secret: input_labels, output_labels (one label per wire: the evaluator's view).
//   input_labels   [instance][input wire] active labels
//   output_labels  out: [instance][output] active labels; decode with decode_outputs()
// Throws InvalidArgument on mismatched sizes; FormatError if the stream is short, its framing
// differs from (circuit, instances, gate_index_start, scheme), or a checksum fails.
[[nodiscard]] GarbleStats evaluate_batch(const Circuit& circuit,
                                         std::span<const Block> input_labels,
                                         uint64_t gate_index_start, ByteSource& source,
                                         std::span<Block> output_labels, const GcOptions& options);
[[nodiscard]] GarbleStats evaluate_batch(const Circuit& circuit,
                                         std::span<const Block> input_labels,
                                         uint64_t gate_index_start, ByteSource& source,
                                         std::span<Block> output_labels,
                                         CpuPath path = gc_active_path());

// A 64-bit digest of the circuit's structure (written in the stream header).
[[nodiscard]] uint64_t circuit_digest(const Circuit& circuit);

}  // namespace pinfer::gc
