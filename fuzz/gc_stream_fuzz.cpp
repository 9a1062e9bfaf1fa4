// Fuzz target: the evaluator's reader of a garbled stream (evaluate_batch): stream header
// (magic, version, circuit digest, AND count, instances, gate index), batch headers, lengths and
// checksums, from memory (a stored precompute) or over a channel (ChannelByteSource).
// Byte 0 picks the source and the instance count.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.hpp"
#include "pinfer/gc/half_gates.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"

using namespace pinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const gc::NonlinearCircuit relu = gc::relu_step_circuit(16, 4);
  if (size < 1) return 0;
  const gc::Circuit& c = relu.circuit;
  const std::size_t instances = 1 + (data[0] >> 1) % 3;
  std::vector<Block> in(instances * c.num_inputs(), Block{3, 5});
  std::vector<Block> out(instances * c.num_outputs());
  const auto bytes = fuzz::as_bytes(data + 1, size - 1);
  fuzz::expect_clean([&] {
    if (data[0] & 1) {
      fuzz::ScriptChannel ch(fuzz::parse_script({data + 1, size - 1}), kDefaultMaxFrameBytes);
      ChannelByteSource source(ch, 0x120, gc::garbled_stream_bytes(c, instances), 4096);
      (void)gc::evaluate_batch(c, in, 0, source, out);
      source.finish();
    } else {
      MemoryByteSource source(bytes);
      (void)gc::evaluate_batch(c, in, 0, source, out);
      source.finish();
    }
  });
  return 0;
}
