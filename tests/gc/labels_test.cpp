#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "gc/gc_test_util.hpp"
#include "pinfer/core/ring.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"

namespace pinfer::gc {
namespace {

using test::seed_text;
using test::seeded_prg;

// A garbler-known input folded into the circuit: the evaluator uses public labels and needs no
// label for c and r'; the result still decodes correctly.
TEST(HalfGates, FoldedGarblerInputsDecode) {
  Block seed;
  Prg prg = seeded_prg(&seed);
  SCOPED_TRACE(seed_text(seed));
  const unsigned l = 32, f = 8;
  const Ring ring(l);
  const NonlinearCircuit relu = relu_step_circuit(l, f);
  const uint32_t width = relu.circuit.num_inputs(), ev = relu.evaluator_inputs();
  const std::size_t instances = 150;
  std::vector<uint64_t> a(instances), c(instances), r(instances);
  prg.fill_ring(ring, a);
  prg.fill_ring(ring, c);
  prg.fill_ring(ring, r);
  const Delta delta = Delta::random();
  const LabelDeriver deriver(os_random_block(), 3);
  std::vector<Block> zero(instances * width), eval_labels(instances * width);
  std::vector<uint8_t> a_bits(ev), g_bits(width - ev);
  for (std::size_t i = 0; i < instances; ++i) {
    auto z = std::span(zero).subspan(i * width, width);
    auto e = std::span(eval_labels).subspan(i * width, width);
    // Evaluator's wires: ordinary labels (as from OT).
    deriver.zero_labels(i * ev, z.first(ev));
    word_to_bits(a[i], a_bits);
    active_labels(z.first(ev), a_bits, delta, e.first(ev));
    // Garbler's wires: folded; public index = global wire number, the same on both sides.
    word_to_bits(c[i], std::span(g_bits).first(l));
    word_to_bits(r[i], std::span(g_bits).subspan(l, l));
    folded_zero_labels(i * width + ev, g_bits, delta, z.subspan(ev));
    public_labels(i * width + ev, e.subspan(ev));
  }
  MemoryByteSink sink;
  std::vector<Block> out_zero(instances * l), out(instances * l);
  (void)garble_batch(relu.circuit, zero, delta, 0, sink, out_zero);
  MemoryByteSource src(sink.bytes());
  (void)evaluate_batch(relu.circuit, eval_labels, 0, src, out);
  std::vector<uint64_t> decode(instances), words(instances);
  decode_words(out_zero, l, decode);
  decode_output_words(out, decode, l, words);
  for (std::size_t i = 0; i < instances; ++i) {
    ASSERT_EQ(words[i], relu_step_reference(ring, f, a[i], c[i], r[i])) << "instance " << i;
  }
  // The evaluator's label of a folded wire does not depend on the garbler's bit.
  Block p0[1], z0[1], z1[1];
  public_labels(42, p0);
  const uint8_t zero_bit[1] = {0}, one_bit[1] = {1};
  folded_zero_labels(42, zero_bit, delta, z0);
  folded_zero_labels(42, one_bit, delta, z1);
  EXPECT_EQ(z0[0], p0[0]);
  EXPECT_EQ(z1[0] ^ delta, p0[0]);  // for v = 1, P is the one-label
}

TEST(Labels, DeriverMatchesPrgFromSeedAndRegeneratesAnyRange) {
  const Block seed = os_random_block();
  std::vector<Block> from_prg(300), all(300), part(50);
  Prg::from_seed(seed, 9).fill_blocks(from_prg);
  const LabelDeriver deriver(seed, 9);
  deriver.zero_labels(0, all);
  deriver.zero_labels(123, part);
  EXPECT_EQ(all, from_prg);
  EXPECT_TRUE(std::equal(part.begin(), part.end(), all.begin() + 123));
}

}  // namespace
}  // namespace pinfer::gc
