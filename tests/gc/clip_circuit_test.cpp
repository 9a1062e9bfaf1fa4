// The clip step circuit (ReLU6, any clip with constant bounds, the bound-free rescale step) and
// max pooling over windows of any element count: plaintext evaluation equals the references,
// and the AND counts documented in nonlinear_circuits.hpp / docs/GC.md.
#include <gtest/gtest.h>

#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/ring.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"

namespace pinfer::gc {
namespace {

uint64_t eval_clip(const NonlinearCircuit& c, uint64_t a, uint64_t cc, uint64_t r) {
  const unsigned l = c.ring_bits;
  std::vector<uint8_t> in(3 * l), out(l);
  word_to_bits(a, std::span(in).subspan(c.a_offset(0), l));
  word_to_bits(cc, std::span(in).subspan(c.c_offset(0), l));
  word_to_bits(r, std::span(in).subspan(c.r_offset(), l));
  c.circuit.evaluate_plain(in, out);
  return word_from_bits(out);
}

TEST(ClipCircuit, MatchesReferenceOnRandomAndBoundaryInputs) {
  struct Case {
    unsigned l, f;
    int64_t lo, hi;
  };
  const int64_t big = int64_t{1} << 40;
  for (const Case& k : {Case{32, 8, 0, 6 << 8}, Case{24, 8, -(1 << 7), 3 << 6},
                        Case{37, 12, 0, 6 << 12}, Case{32, 8, -big, big},  // rescale only
                        Case{20, 6, 5, 5}, Case{32, 8, -(1 << 30), 100}}) {
    const Ring ring(k.l);
    const NonlinearCircuit c = clip_step_circuit(k.l, k.f, k.lo, k.hi);
    Prg prg = Prg::from_seed(Block(k.l, k.f));
    for (int i = 0; i < 300; ++i) {
      uint64_t a = ring.reduce(prg.next_u64()), cc = ring.reduce(prg.next_u64());
      if (i < 8) {  // sums just around the bounds (x 2^f) and the ring's ends
        const int64_t targets[] = {k.lo, k.lo - 1, k.hi, k.hi + 1, 0, -1};
        const int64_t t = i < 6 ? targets[i]
                                : (i == 6 ? ring.to_signed(ring.mask() >> 1) >> k.f
                                          : -(int64_t{1} << (k.l - k.f - 1)));
        const int64_t lim = int64_t{1} << (k.l - k.f - 1);
        const int64_t v = std::clamp<int64_t>(t, -lim, lim - 1);
        cc = ring.sub(ring.from_signed(v * (int64_t{1} << k.f)), a);
      }
      const uint64_t r = ring.reduce(prg.next_u64());
      ASSERT_EQ(eval_clip(c, a, cc, r), clip_step_reference(ring, k.f, k.lo, k.hi, a, cc, r))
          << "l=" << k.l << " f=" << k.f << " lo=" << k.lo << " hi=" << k.hi << " i=" << i;
    }
  }
}

TEST(ClipCircuit, AndCounts) {
  // ReLU6 at l = 32, f = 8 (docs/GC.md): adder 31 + max with 0 (24 + 24, sign then constant)
  // + min with 6 * 2^8 + re-masking 31.
  EXPECT_EQ(clip_step_and_count(32, 8, 0, 6 << 8),
            clip_step_circuit(32, 8, 0, 6 << 8).circuit.and_count());
  EXPECT_LE(clip_step_and_count(32, 8, 0, 6 << 8), 31u + 4 * 24 + 31);
  EXPECT_EQ(clip_step_and_count(32, 8, 0, 6 << 8), 132u);  // docs/GC.md
  EXPECT_EQ(clip_step_and_count(32, 8, -(1 << 7), 3 << 6), 149u);
  EXPECT_EQ(clip_step_and_count(37, 12, 0, 6 << 12), 145u);
  EXPECT_EQ(clip_step_and_count(32, 8, INT64_MIN / 4, INT64_MAX / 4), 62u);  // rescale: 2 (l - 1)
  EXPECT_THROW((void)clip_step_circuit(32, 8, 5, 4), InvalidArgument);
}

TEST(MaxpoolWindowCircuit, AnyElementCountMatchesReference) {
  const unsigned l = 24, f = 8;
  const Ring ring(l);
  for (unsigned n : {1u, 3u, 6u, 9u}) {
    const NonlinearCircuit c = maxpool_relu_window_circuit(l, f, n);
    EXPECT_EQ(c.elements, n);
    Prg prg = Prg::from_seed(Block(n, 7));
    for (int i = 0; i < 50; ++i) {
      std::vector<uint64_t> a(n), cc(n);
      std::vector<uint8_t> in((2 * n + 1) * l), out(l);
      for (unsigned j = 0; j < n; ++j) {
        a[j] = ring.reduce(prg.next_u64());
        cc[j] = ring.reduce(prg.next_u64());
        word_to_bits(a[j], std::span(in).subspan(c.a_offset(j), l));
        word_to_bits(cc[j], std::span(in).subspan(c.c_offset(j), l));
      }
      const uint64_t r = ring.reduce(prg.next_u64());
      word_to_bits(r, std::span(in).subspan(c.r_offset(), l));
      c.circuit.evaluate_plain(in, out);
      ASSERT_EQ(word_from_bits(out), maxpool_relu_reference(ring, f, a, cc, r));
    }
  }
  EXPECT_THROW((void)maxpool_relu_window_circuit(l, f, 0), InvalidArgument);
  EXPECT_THROW((void)maxpool_relu_window_circuit(l, f, 257), InvalidArgument);
}

}  // namespace
}  // namespace pinfer::gc

namespace pinfer::gc {
namespace {

TEST(ArgmaxCircuit, MatchesReferenceIncludingTies) {
  for (auto [l, n] : {std::pair{24u, 1u}, {24u, 2u}, {32u, 10u}, {37u, 7u}}) {
    const Ring ring(l);
    const NonlinearCircuit c = argmax_circuit(l, n);
    Prg prg = Prg::from_seed(Block(l, n));
    for (int i = 0; i < 60; ++i) {
      std::vector<uint64_t> a(n), cc(n);
      std::vector<uint8_t> in((2 * n + 1) * l), out(l);
      for (unsigned j = 0; j < n; ++j) {
        a[j] = ring.reduce(prg.next_u64());
        // Small values (many ties) half of the time, any ring value otherwise.
        const uint64_t v = i % 2 ? prg.next_u64() : prg.uniform_below(3);
        cc[j] = ring.sub(ring.reduce(v), a[j]);
        word_to_bits(a[j], std::span(in).subspan(c.a_offset(j), l));
        word_to_bits(cc[j], std::span(in).subspan(c.c_offset(j), l));
      }
      const uint64_t r = ring.reduce(prg.next_u64());
      word_to_bits(r, std::span(in).subspan(c.r_offset(), l));
      c.circuit.evaluate_plain(in, out);
      ASSERT_EQ(word_from_bits(out), argmax_reference(ring, a, cc, r)) << l << " " << n << " " << i;
    }
  }
  EXPECT_EQ(argmax_and_count(32, 10), 906u);  // docs/GC.md
  EXPECT_THROW((void)argmax_circuit(32, 0), InvalidArgument);
}

}  // namespace
}  // namespace pinfer::gc
