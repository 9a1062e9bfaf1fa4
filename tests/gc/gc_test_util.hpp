#pragma once
// Shared helpers of the gc tests: garble, stream through memory, evaluate, decode.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fast_path_skip.hpp"
#include "pinfer/core/cpu_features.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/gc/half_gates.hpp"
#include "pinfer/gc/labels.hpp"

namespace pinfer::gc::test {

struct GcRun {
  std::vector<uint8_t> outputs;  // [instance][output] decoded bits
  std::vector<std::byte> stream;
  GarbleStats garbled, evaluated;
};

// Garbles circuit for bits.size() / num_inputs instances and evaluates it with the active
// labels of `bits` ([instance][input]).
inline GcRun garble_and_evaluate(const Circuit& c, std::span<const uint8_t> bits,
                                 const GcOptions& options, uint64_t gate_index_start = 0) {
  const std::size_t instances = bits.size() / c.num_inputs();
  const Delta delta = Delta::random();
  const LabelDeriver deriver(os_random_block(), 7);
  std::vector<Block> zero(bits.size()), active(bits.size());
  deriver.zero_labels(0, zero);
  active_labels(zero, bits, delta, active);
  std::vector<Block> out_zero(instances * c.num_outputs()), out(out_zero.size());
  MemoryByteSink sink;
  GcRun run;
  run.garbled = garble_batch(c, zero, delta, gate_index_start, sink, out_zero, options);
  run.stream = sink.take();
  MemoryByteSource source(run.stream);
  run.evaluated = evaluate_batch(c, active, gate_index_start, source, out, options);
  source.finish();
  std::vector<uint8_t> decode(out_zero.size());
  decode_bits(out_zero, decode);
  run.outputs.resize(out.size());
  decode_outputs(out, decode, run.outputs);
  return run;
}

inline GcOptions options_for(CpuPath path, GcScheme scheme = GcScheme::half_gates) {
  GcOptions opt;
  opt.path = path;
  opt.scheme = scheme;
  return opt;
}

inline GcRun garble_and_evaluate(const Circuit& c, std::span<const uint8_t> bits, CpuPath path,
                                 uint64_t gate_index_start = 0) {
  return garble_and_evaluate(c, bits, options_for(path), gate_index_start);
}

// Fresh zero labels for `wires` input wires, random input bits, and the active labels of those
// bits under `delta` (the evaluator's inputs).
struct InputLabels {
  std::vector<Block> zero, active;
  std::vector<uint8_t> bits;
};
inline InputLabels random_input_labels(std::size_t wires, const Block& delta) {
  InputLabels in{std::vector<Block>(wires), std::vector<Block>(wires), std::vector<uint8_t>(wires)};
  LabelDeriver(os_random_block(), 0).zero_labels(0, in.zero);
  Prg().fill_bits(in.bits);
  active_labels(in.zero, in.bits, delta, in.active);
  return in;
}

// A PRG from a fresh OS seed, reported through *seed_out so a failure can be replayed.
inline Prg seeded_prg(Block* seed_out) {
  *seed_out = os_random_block();
  return Prg::from_seed(*seed_out);
}

inline std::string seed_text(const Block& s) {
  return "seed " + std::to_string(s.lo) + " " + std::to_string(s.hi);
}

// The paths this CPU runs; a test that asks also reports a skip naming the ones it cannot run
// (fast_path_skip.hpp), so their comparisons never pass silently.
inline std::vector<CpuPath> supported_paths() {
  std::vector<CpuPath> paths;
  std::vector<std::string> missing;
  for (CpuPath p : {CpuPath::openssl, CpuPath::aesni, CpuPath::vaes}) {
    if (cpu_supports(p)) {
      paths.push_back(p);
    } else {
      missing.push_back(std::string(to_string(p)));
    }
  }
  ::pinfer::test::report_unrun_paths(missing);
  return paths;
}

}  // namespace pinfer::gc::test
