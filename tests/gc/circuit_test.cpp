#include <gtest/gtest.h>

#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/ring.hpp"
#include "pinfer/gc/arithmetic.hpp"
#include "pinfer/gc/circuit_builder.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"

namespace pinfer::gc {
namespace {

TEST(CircuitBuilder, FoldsConstantsWithoutGates) {
  CircuitBuilder b;
  const Bit x = b.input();
  EXPECT_EQ(b.and_(x, Bit::constant(false)), Bit::constant(false));
  EXPECT_EQ(b.and_(x, Bit::constant(true)), x);
  EXPECT_EQ(b.xor_(x, Bit::constant(false)), x);
  EXPECT_EQ(b.xor_(Bit::constant(true), Bit::constant(true)), Bit::constant(false));
  EXPECT_EQ(b.and_count(), 0u);
  const Bit nx = b.xor_(x, Bit::constant(true));  // NOT gate
  b.output(nx);
  b.output(Bit::constant(true));
  const Circuit c = b.build();
  EXPECT_EQ(c.and_count(), 0u);
  std::vector<uint8_t> out(2);
  c.evaluate_plain(std::vector<uint8_t>{1}, out);
  EXPECT_EQ(out, (std::vector<uint8_t>{0, 1}));
}

TEST(CircuitBuilder, RejectsInputAfterGate) {
  CircuitBuilder b;
  const Bit x = b.input(), y = b.input();
  (void)b.xor_(x, y);
  EXPECT_THROW((void)b.input(), InvalidArgument);
}

TEST(Circuit, RejectsGatesOutOfOrder) {
  EXPECT_THROW(Circuit(2, {Gate{GateOp::and_gate, 0, 3, 2}}, {2}), InvalidArgument);
  EXPECT_THROW(Circuit(2, {Gate{GateOp::and_gate, 0, 1, 5}}, {2}), InvalidArgument);
  EXPECT_THROW(Circuit(2, {Gate{GateOp::and_gate, 0, 1, 2}}, {3}), InvalidArgument);
}

// AND counts of the arithmetic blocks at width l, as documented in arithmetic.hpp.
TEST(Arithmetic, AndCounts) {
  for (unsigned l : {16u, 32u, 37u}) {
    const auto count = [&](auto&& f) {
      CircuitBuilder b;
      const Word x = b.input_word(l), y = b.input_word(l);
      const Bit sel = b.input();
      f(b, x, y, sel);
      return b.and_count();
    };
    EXPECT_EQ(count([](auto& b, auto& x, auto& y, Bit) { (void)add(b, x, y); }), l - 1);
    EXPECT_EQ(count([](auto& b, auto& x, auto& y, Bit) { (void)sub(b, x, y); }), l - 1);
    EXPECT_EQ(count([](auto& b, auto& x, auto& y, Bit) { (void)less_than_unsigned(b, x, y); }), l);
    EXPECT_EQ(count([](auto& b, auto& x, auto& y, Bit) { (void)less_than_signed(b, x, y); }), l);
    EXPECT_EQ(count([](auto& b, auto& x, auto& y, Bit s) { (void)mux(b, s, x, y); }), l);
    EXPECT_EQ(count([](auto& b, auto& x, auto& y, Bit) { (void)max_signed(b, x, y); }), 2 * l);
    EXPECT_EQ(count([](auto&, auto& x, auto&, Bit) { (void)shift_right_arith(x, 5); }), 0u);
  }
}

TEST(NonlinearCircuits, ReluStepAndCountMeetsTheBound) {
  for (auto [l, f] : {std::pair{16u, 8u}, {32u, 8u}, {37u, 12u}, {64u, 16u}}) {
    const NonlinearCircuit c = relu_step_circuit(l, f);
    EXPECT_EQ(c.circuit.and_count(), relu_step_and_count(l, f));
    EXPECT_EQ(c.circuit.and_count(), 3 * l - f - 3);
    EXPECT_LE(c.circuit.and_count(), 3 * l - f - 2);  // the bound
    EXPECT_EQ(c.circuit.num_inputs(), 3 * l);
    EXPECT_EQ(c.circuit.num_outputs(), l);
  }
  EXPECT_EQ(relu_step_circuit(32, 8).circuit.and_count(), 85u);
  EXPECT_LE(relu_step_circuit(32, 8).circuit.and_count() * 32, 2752u);
}

TEST(NonlinearCircuits, MaxpoolAndCount) {
  for (auto [l, f, k] : {std::tuple{16u, 8u, 2u}, {32u, 8u, 2u}, {37u, 12u, 3u}}) {
    const NonlinearCircuit c = maxpool_relu_circuit(l, f, k);
    EXPECT_EQ(c.circuit.and_count(), maxpool_relu_and_count(l, f, k));
    EXPECT_EQ(c.circuit.num_inputs(), (2 * k * k + 1) * l);
  }
  EXPECT_EQ(maxpool_relu_circuit(32, 8, 2).circuit.and_count(), 322u);
}

TEST(NonlinearCircuits, RejectsBadParameters) {
  EXPECT_THROW((void)relu_step_circuit(1, 0), InvalidArgument);
  EXPECT_THROW((void)relu_step_circuit(16, 15), InvalidArgument);
  EXPECT_THROW((void)relu_step_circuit(65, 8), InvalidArgument);
  EXPECT_THROW((void)maxpool_relu_circuit(32, 8, 0), InvalidArgument);
}

// The circuits in plaintext against the ring references, including the edge values.
TEST(NonlinearCircuits, PlaintextMatchesReference) {
  const Block seed = os_random_block();
  SCOPED_TRACE("seed " + std::to_string(seed.lo) + " " + std::to_string(seed.hi));
  Prg prg = Prg::from_seed(seed);
  for (auto [l, f] : {std::pair{16u, 8u}, {32u, 8u}, {37u, 12u}}) {
    const Ring ring(l);
    const NonlinearCircuit relu = relu_step_circuit(l, f);
    std::vector<uint8_t> in(relu.circuit.num_inputs()), out(l);
    const uint64_t edges[] = {
        0, 1, ring.mask(), uint64_t{1} << (l - 1), (uint64_t{1} << (l - 1)) - 1, uint64_t{1} << f};
    for (int t = 0; t < 300; ++t) {
      uint64_t a = prg.next_u64() & ring.mask(), c = prg.next_u64() & ring.mask();
      const uint64_t r = prg.next_u64() & ring.mask();
      if (t < 36) {
        a = edges[t % 6];
        c = edges[t / 6];
      }
      word_to_bits(a, std::span(in).subspan(relu.a_offset(0), l));
      word_to_bits(c, std::span(in).subspan(relu.c_offset(0), l));
      word_to_bits(r, std::span(in).subspan(relu.r_offset(), l));
      relu.circuit.evaluate_plain(in, out);
      ASSERT_EQ(word_from_bits(out), relu_step_reference(ring, f, a, c, r))
          << "l " << l << " a " << a << " c " << c << " r " << r;
    }
  }
}

}  // namespace
}  // namespace pinfer::gc
