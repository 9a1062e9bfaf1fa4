// The top-k circuit (--reveal topk:K) against its plaintext reference: evaluated in plaintext
// with many ties and with any ring values, garbled and evaluated once, and its AND counts (the
// figures of docs/GC.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <tuple>

#include "gc_test_util.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"

namespace pinfer::gc {
namespace {

// Input bits of one instance: class values a_j + c_j drawn small (ties) or from the whole ring.
struct Instance {
  std::vector<uint64_t> a, c, r;
  std::vector<uint8_t> bits;
};

Instance random_instance(const NonlinearCircuit& circ, Prg& prg, bool ties) {
  const Ring ring(circ.ring_bits);
  const unsigned l = circ.ring_bits, n = circ.elements, k = circ.outputs;
  Instance in;
  in.a.resize(n);
  in.c.resize(n);
  in.r.resize(k);
  in.bits.assign(circ.circuit.num_inputs(), 0);
  for (unsigned j = 0; j < n; ++j) {
    in.a[j] = ring.reduce(prg.next_u64());
    const uint64_t v = ties ? ring.from_signed(static_cast<int64_t>(prg.uniform_below(5)) - 2)
                            : ring.reduce(prg.next_u64());
    in.c[j] = ring.sub(v, in.a[j]);
    word_to_bits(in.a[j], std::span(in.bits).subspan(circ.a_offset(j), l));
    word_to_bits(in.c[j], std::span(in.bits).subspan(circ.c_offset(j), l));
  }
  for (unsigned i = 0; i < k; ++i) {
    in.r[i] = ring.reduce(prg.next_u64());
    word_to_bits(in.r[i], std::span(in.bits).subspan(circ.r_offset(i), l));
  }
  return in;
}

std::vector<uint64_t> words(std::span<const uint8_t> bits, unsigned l) {
  std::vector<uint64_t> out;
  for (std::size_t i = 0; i < bits.size(); i += l)
    out.push_back(word_from_bits(bits.subspan(i, l)));
  return out;
}

TEST(TopKCircuit, MatchesReferenceIncludingTies) {
  for (auto [l, n, k] : {std::tuple{24u, 1u, 1u},
                         {24u, 2u, 2u},
                         {32u, 10u, 3u},
                         {32u, 10u, 10u},
                         {37u, 7u, 5u},
                         {20u, 33u, 4u}}) {
    const Ring ring(l);
    const NonlinearCircuit c = top_k_circuit(l, n, k);
    ASSERT_EQ(c.outputs, k);
    ASSERT_EQ(c.circuit.num_inputs(), (2 * n + k) * l);
    ASSERT_EQ(c.circuit.num_outputs(), k * l);
    Prg prg = Prg::from_seed(Block(l, n * 100 + k));
    for (int i = 0; i < 80; ++i) {
      const Instance in = random_instance(c, prg, i % 2 == 0);
      std::vector<uint8_t> out(k * l);
      c.circuit.evaluate_plain(in.bits, out);
      ASSERT_EQ(words(out, l), top_k_reference(ring, in.a, in.c, in.r))
          << l << " " << n << " " << k << " " << i;
    }
  }
}

TEST(TopKCircuit, ReferenceRanksEqualValuesByLowerIndex) {
  const Ring ring(16);
  // Values 3, 7, 7, -1, 7: the three 7s in index order, then 3.
  const std::vector<uint64_t> a = {3, 7, 7, ring.from_signed(-1), 7}, c(5, 0), r(4, 0);
  EXPECT_EQ(top_k_reference(ring, a, c, r), (std::vector<uint64_t>{1, 2, 4, 0}));
}

TEST(TopKCircuit, GarbledMatchesReference) {
  const unsigned l = 32, n = 10, k = 3;
  const Ring ring(l);
  const NonlinearCircuit c = top_k_circuit(l, n, k);
  Prg prg = Prg::from_seed(Block(9, 9));
  std::vector<uint8_t> bits;
  std::vector<std::vector<uint64_t>> expect;
  for (int i = 0; i < 4; ++i) {
    const Instance in = random_instance(c, prg, i % 2 == 0);
    bits.insert(bits.end(), in.bits.begin(), in.bits.end());
    expect.push_back(top_k_reference(ring, in.a, in.c, in.r));
  }
  const test::GcRun run = test::garble_and_evaluate(c.circuit, bits, CpuPath::openssl);
  for (std::size_t i = 0; i < expect.size(); ++i) {
    EXPECT_EQ(words(std::span(run.outputs).subspan(i * k * l, k * l), l), expect[i]) << i;
  }
}

TEST(TopKCircuit, AndCounts) {
  // Top-1 costs what the argmax circuit costs.
  EXPECT_EQ(top_k_and_count(32, 10, 1), argmax_and_count(32, 10));
  for (auto [l, n, k] : {std::tuple{32u, 10u, 3u}, {32u, 100u, 5u}, {37u, 200u, 5u}}) {
    const uint64_t b = std::max(1u, static_cast<unsigned>(std::bit_width(n - 1u)));
    EXPECT_LE(top_k_and_count(l, n, k),
              uint64_t{n} * (l - 1) + uint64_t{n - 1} * k * (3 * l + 2 * b) + k * (l - 1));
  }
  // docs/GC.md
  EXPECT_EQ(top_k_and_count(32, 10, 3), 2432u);
  EXPECT_EQ(top_k_and_count(32, 10, 5), 3561u);
  EXPECT_THROW((void)top_k_circuit(32, 10, 0), InvalidArgument);
  EXPECT_THROW((void)top_k_circuit(32, 10, 11), InvalidArgument);
}

// The table of docs/GC.md (run with --gtest_also_run_disabled_tests).
TEST(TopKCircuit, DISABLED_PrintAndCountTable) {
  for (unsigned n : {10u, 100u, 200u, 1000u}) {
    for (unsigned k : {1u, 3u, 5u}) {
      const uint64_t a32 = top_k_and_count(32, n, k), a37 = top_k_and_count(37, n, k);
      std::printf("n %u k %u: l=32 %llu (%llu B half-gates) l=37 %llu\n", n, k,
                  static_cast<unsigned long long>(a32), static_cast<unsigned long long>(a32 * 32),
                  static_cast<unsigned long long>(a37));
    }
  }
}

}  // namespace
}  // namespace pinfer::gc
