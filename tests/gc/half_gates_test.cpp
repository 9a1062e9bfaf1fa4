#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "gc/gc_test_util.hpp"
#include "gc/half_gates_kernels.hpp"
#include "pinfer/core/channel.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/ring.hpp"
#include "pinfer/gc/arithmetic.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"

namespace pinfer::gc {
namespace {

using test::garble_and_evaluate;
using test::seed_text;
using test::seeded_prg;
using test::supported_paths;

// ReLU step, garbled and evaluated, for l in {16, 32, 37} on every kernel path; 300 instances
// span several batches and a partial one.
TEST(HalfGates, ReluStepDecodesToReference) {
  Block seed;
  Prg prg = seeded_prg(&seed);
  SCOPED_TRACE(seed_text(seed));
  for (auto [l, f] : {std::pair{16u, 8u}, {32u, 8u}, {37u, 12u}}) {
    const Ring ring(l);
    const NonlinearCircuit relu = relu_step_circuit(l, f);
    const std::size_t instances = 300;
    std::vector<uint64_t> a(instances), c(instances), r(instances);
    prg.fill_ring(ring, a);
    prg.fill_ring(ring, c);
    prg.fill_ring(ring, r);
    std::vector<uint8_t> bits(instances * relu.circuit.num_inputs());
    for (std::size_t i = 0; i < instances; ++i) {
      auto in = std::span(bits).subspan(i * relu.circuit.num_inputs(), relu.circuit.num_inputs());
      word_to_bits(a[i], in.subspan(relu.a_offset(0), l));
      word_to_bits(c[i], in.subspan(relu.c_offset(0), l));
      word_to_bits(r[i], in.subspan(relu.r_offset(), l));
    }
    for (CpuPath path : supported_paths()) {
      SCOPED_TRACE(std::string(to_string(path)) + " l " + std::to_string(l));
      const test::GcRun run = garble_and_evaluate(relu.circuit, bits, path, 1000);
      EXPECT_EQ(run.garbled.and_gates, instances * relu_step_and_count(l, f));
      EXPECT_EQ(run.evaluated.and_gates, run.garbled.and_gates);
      EXPECT_EQ(run.garbled.table_bytes, run.garbled.and_gates * kAndTableBytes);
      EXPECT_EQ(run.stream.size(), garbled_stream_bytes(relu.circuit, instances));
      EXPECT_EQ(run.garbled.next_gate_index, 1000 + run.garbled.and_gates);
      for (std::size_t i = 0; i < instances; ++i) {
        const uint64_t got = word_from_bits(std::span(run.outputs).subspan(i * l, l));
        ASSERT_EQ(got, relu_step_reference(ring, f, a[i], c[i], r[i])) << "instance " << i;
      }
    }
  }
}

TEST(HalfGates, MaxpoolDecodesToReference) {
  Block seed;
  Prg prg = seeded_prg(&seed);
  SCOPED_TRACE(seed_text(seed));
  for (auto [l, f, k] : {std::tuple{16u, 8u, 2u}, {32u, 8u, 2u}, {37u, 12u, 3u}}) {
    const Ring ring(l);
    const NonlinearCircuit pool = maxpool_relu_circuit(l, f, k);
    const unsigned n = k * k;
    const std::size_t instances = 70;
    std::vector<uint64_t> a(instances * n), c(instances * n), r(instances);
    prg.fill_ring(ring, a);
    prg.fill_ring(ring, c);
    prg.fill_ring(ring, r);
    const uint32_t width = pool.circuit.num_inputs();
    std::vector<uint8_t> bits(instances * width);
    for (std::size_t i = 0; i < instances; ++i) {
      auto in = std::span(bits).subspan(i * width, width);
      for (unsigned j = 0; j < n; ++j) {
        word_to_bits(a[i * n + j], in.subspan(pool.a_offset(j), l));
        word_to_bits(c[i * n + j], in.subspan(pool.c_offset(j), l));
      }
      word_to_bits(r[i], in.subspan(pool.r_offset(), l));
    }
    const test::GcRun run = garble_and_evaluate(pool.circuit, bits, gc_active_path());
    EXPECT_EQ(run.garbled.and_gates, instances * maxpool_relu_and_count(l, f, k));
    for (std::size_t i = 0; i < instances; ++i) {
      const uint64_t got = word_from_bits(std::span(run.outputs).subspan(i * l, l));
      const uint64_t want = maxpool_relu_reference(ring, f, std::span(a).subspan(i * n, n),
                                                   std::span(c).subspan(i * n, n), r[i]);
      ASSERT_EQ(got, want) << "l " << l << " instance " << i;
    }
  }
}

// Each arithmetic block as its own garbled circuit, against ring arithmetic.
TEST(HalfGates, ArithmeticBlocksDecodeToReference) {
  Block seed;
  Prg prg = seeded_prg(&seed);
  SCOPED_TRACE(seed_text(seed));
  using Build = std::function<void(CircuitBuilder&, const Word&, const Word&, Bit)>;
  using Ref = std::function<uint64_t(const Ring&, uint64_t, uint64_t, uint64_t)>;
  struct Case {
    const char* name;
    Build build;
    Ref ref;
    unsigned out_bits;  // 0: l
  };
  const std::vector<Case> cases = {
      {"add", [](auto& b, auto& x, auto& y, Bit) { b.output_word(add(b, x, y)); },
       [](const Ring& R, uint64_t x, uint64_t y, uint64_t) { return R.add(x, y); }, 0},
      {"sub", [](auto& b, auto& x, auto& y, Bit) { b.output_word(sub(b, x, y)); },
       [](const Ring& R, uint64_t x, uint64_t y, uint64_t) { return R.sub(x, y); }, 0},
      {"lt_unsigned", [](auto& b, auto& x, auto& y, Bit) { b.output(less_than_unsigned(b, x, y)); },
       [](const Ring&, uint64_t x, uint64_t y, uint64_t) -> uint64_t { return x < y; }, 1},
      {"lt_signed", [](auto& b, auto& x, auto& y, Bit) { b.output(less_than_signed(b, x, y)); },
       [](const Ring& R, uint64_t x, uint64_t y, uint64_t) -> uint64_t {
         return R.to_signed(x) < R.to_signed(y);
       },
       1},
      {"mux", [](auto& b, auto& x, auto& y, Bit s) { b.output_word(mux(b, s, x, y)); },
       [](const Ring&, uint64_t x, uint64_t y, uint64_t s) { return s ? y : x; }, 0},
      {"max", [](auto& b, auto& x, auto& y, Bit) { b.output_word(max_signed(b, x, y)); },
       [](const Ring& R, uint64_t x, uint64_t y, uint64_t) {
         return R.to_signed(x) < R.to_signed(y) ? y : x;
       },
       0},
      {"shift", [](auto& b, auto& x, auto&, Bit) { b.output_word(shift_right_arith(x, 5)); },
       [](const Ring& R, uint64_t x, uint64_t, uint64_t) { return R.shift_right_arith(x, 5); }, 0},
  };
  for (unsigned l : {16u, 32u, 37u}) {
    const Ring ring(l);
    for (const Case& cs : cases) {
      SCOPED_TRACE(std::string(cs.name) + " l " + std::to_string(l));
      CircuitBuilder b;
      const Word x = b.input_word(l), y = b.input_word(l);
      const Bit sel = b.input();
      cs.build(b, x, y, sel);
      const Circuit circuit = b.build();
      const unsigned out_bits = cs.out_bits ? cs.out_bits : l;
      const std::size_t instances = 100;
      std::vector<uint64_t> xs(instances), ys(instances);
      prg.fill_ring(ring, xs);
      prg.fill_ring(ring, ys);
      xs[0] = ys[0];  // equal operands for the comparators
      std::vector<uint8_t> sels(instances), bits(instances * circuit.num_inputs());
      prg.fill_bits(sels);
      for (std::size_t i = 0; i < instances; ++i) {
        auto in = std::span(bits).subspan(i * circuit.num_inputs(), circuit.num_inputs());
        word_to_bits(xs[i], in.subspan(0, l));
        word_to_bits(ys[i], in.subspan(l, l));
        in[2 * l] = sels[i];
      }
      const test::GcRun run = garble_and_evaluate(circuit, bits, gc_active_path());
      for (std::size_t i = 0; i < instances; ++i) {
        const uint64_t got = word_from_bits(std::span(run.outputs).subspan(i * out_bits, out_bits));
        ASSERT_EQ(got, cs.ref(ring, xs[i], ys[i], sels[i])) << "instance " << i;
      }
    }
  }
}

// Every kernel path garbles to the same bytes and output labels for the same labels and delta.
TEST(HalfGates, AllKernelPathsAgree) {
  const NonlinearCircuit relu = relu_step_circuit(32, 8);
  const std::size_t instances = 77;  // tails of every width
  const Delta delta = Delta::random();
  std::vector<Block> zero(instances * relu.circuit.num_inputs());
  LabelDeriver(os_random_block(), 0).zero_labels(0, zero);
  std::vector<std::byte> ref_stream;
  std::vector<Block> ref_out;
  GcOptions opt;
  opt.hash_key = os_random_block();  // one public key for every path
  for (CpuPath path : supported_paths()) {
    SCOPED_TRACE(to_string(path));
    MemoryByteSink sink;
    std::vector<Block> out(instances * 32);
    opt.path = path;
    (void)garble_batch(relu.circuit, zero, delta, 5, sink, out, opt);
    if (ref_stream.empty()) {
      ref_stream = sink.take();
      ref_out = out;
      continue;
    }
    EXPECT_EQ(sink.bytes(), ref_stream);
    EXPECT_EQ(out, ref_out);
    // Evaluation on this path of the reference stream gives the same labels as portable.
    std::vector<Block> active(zero.size()), got(out.size()), want(out.size());
    std::vector<uint8_t> bits(zero.size());
    Prg().fill_bits(bits);
    active_labels(zero, bits, delta, active);
    MemoryByteSource s1(ref_stream), s2(ref_stream);
    (void)evaluate_batch(relu.circuit, active, 5, s1, got, path);
    (void)evaluate_batch(relu.circuit, active, 5, s2, want, CpuPath::openssl);
    EXPECT_EQ(got, want);
  }
  EXPECT_GE(supported_paths().size(), 1u);
}

// Known answer for one AND gate: the tables are ZRE15's half-gates with GKWY20's TMMO hash
// H(x, t) = pi(pi(x) ^ t) ^ pi(x), recomputed here from AES under the call's public hash key
// (read back from the stream header), on every path.
TEST(HalfGates, TablesMatchHalfGatesWithTmmoHash) {
  CircuitBuilder b;
  const Bit x = b.input(), y = b.input();
  b.output(b.and_(x, y));
  const Circuit c = b.build();
  const Block key = os_random_block();
  const Aes128 pi(key);
  const auto pi1 = [&](const Block& v) {
    Block in[1] = {v}, out[1];
    pi.encrypt_ecb_with(CpuPath::openssl, in, out);
    return out[0];
  };
  const auto h = [&](const Block& v, uint64_t t) { return pi1(pi1(v) ^ Block(t, 0)) ^ pi1(v); };
  for (int trial = 0; trial < 8; ++trial) {
    const Delta delta = Delta::random();
    const Block zero[2] = {os_random_block(), os_random_block()};
    const Block a0 = zero[0], b0 = zero[1];
    const uint64_t g = 12345 + trial;
    const Block pb = Block::mask_of(b0.lo), pa = Block::mask_of(a0.lo);
    const Block tg = h(a0, 2 * g) ^ h(a0 ^ delta, 2 * g) ^ (pb & delta);
    const Block te = h(b0, 2 * g + 1) ^ h(b0 ^ delta, 2 * g + 1) ^ a0;
    const Block c0 = h(a0, 2 * g) ^ (pa & tg) ^ h(b0, 2 * g + 1) ^ (pb & (te ^ a0));
    for (CpuPath path : supported_paths()) {
      MemoryByteSink sink;
      Block out_zero[1];
      GcOptions opt;
      opt.path = path;
      opt.hash_key = key;
      (void)garble_batch(c, zero, delta, g, sink, out_zero, opt);
      Block header_key, tables[2];
      std::memcpy(&header_key, sink.bytes().data() + kStreamHeaderBytes - 16, 16);
      EXPECT_EQ(header_key, key);
      std::memcpy(tables, sink.bytes().data() + kStreamHeaderBytes + 16, 32);
      EXPECT_EQ(tables[0], tg) << to_string(path);
      EXPECT_EQ(tables[1], te) << to_string(path);
      EXPECT_EQ(out_zero[0], c0) << to_string(path);
    }
  }
}

// The evaluator's output label is one of the two output labels: zero-label or zero ^ delta.
TEST(HalfGates, EvaluatorHoldsExactlyTheActiveOutputLabel) {
  CircuitBuilder b;
  const Bit x = b.input(), y = b.input();
  b.output(b.and_(x, y));
  const Circuit c = b.build();
  const Delta delta = Delta::random();
  for (int xv = 0; xv < 2; ++xv) {
    for (int yv = 0; yv < 2; ++yv) {
      const Block zero[2] = {os_random_block(), os_random_block()};
      const uint8_t bits[2] = {static_cast<uint8_t>(xv), static_cast<uint8_t>(yv)};
      Block active[2], out_zero[1], out[1];
      active_labels(zero, bits, delta, active);
      MemoryByteSink sink;
      (void)garble_batch(c, zero, delta, 0, sink, out_zero);
      MemoryByteSource src(sink.bytes());
      (void)evaluate_batch(c, active, 0, src, out);
      EXPECT_EQ(out[0], (xv & yv) ? out_zero[0] ^ delta : out_zero[0]);
    }
  }
}

// NOT chains, negated AND inputs, inverted and constant outputs, unread inputs and a dead gate:
// the shapes the execution plan folds away, checked against plaintext on every path.
TEST(HalfGates, NotGatesAndConstantOutputsDecode) {
  CircuitBuilder b;
  const Bit x = b.input(), y = b.input(), z = b.input();
  (void)b.input();  // never read
  const Bit nx = b.not_(x), nnx = b.not_(nx);
  const Bit t = b.and_(nx, b.not_(y));  // both AND inputs negated
  (void)b.and_(x, z);                   // dead gate
  b.output(t);
  b.output(b.not_(t));               // inverted output
  b.output(b.xor_(nnx, b.not_(z)));  // XOR of inverted values
  b.output(Bit::constant(true));
  b.output(Bit::constant(false));
  b.output(nx);  // an input, inverted
  const Circuit c = b.build();
  const std::size_t instances = 37;
  std::vector<uint8_t> bits(instances * c.num_inputs());
  Prg().fill_bits(bits);
  for (CpuPath path : supported_paths()) {
    SCOPED_TRACE(to_string(path));
    const test::GcRun run = garble_and_evaluate(c, bits, path);
    std::vector<uint8_t> want(c.num_outputs());
    for (std::size_t i = 0; i < instances; ++i) {
      c.evaluate_plain(std::span(bits).subspan(i * 4, 4), want);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), run.outputs.begin() + i * 6)) << i;
    }
  }
}

// A circuit too large for multi-instance batches (batch_instances = 1): memory stays bounded and
// results still decode, on every path. The random circuit mixes AND, XOR and NOT.
TEST(HalfGates, LargeCircuitUsesSmallBatches) {
  CircuitBuilder b;
  std::vector<Bit> pool = b.input_word(64);
  Prg prg = Prg::from_seed(Block(2026, 11));
  for (int t = 0; t < 70000; ++t) {
    const Bit x = pool[prg.uniform_below(pool.size())], y = pool[prg.uniform_below(pool.size())];
    const Bit z = pool[prg.uniform_below(pool.size())];
    Bit v = b.xor_(b.and_(x, y), z);
    if (t % 3 == 0) v = b.not_(v);
    pool.push_back(v);
  }
  for (std::size_t i = pool.size() - 40; i < pool.size(); ++i) b.output(pool[i]);
  const Circuit c = b.build();
  ASSERT_GT(c.and_count(), 60000u);
  EXPECT_LT(batch_instances(c), 16u);
  const std::size_t instances = 3;
  std::vector<uint8_t> bits(instances * 64);
  Prg().fill_bits(bits);
  for (CpuPath path : supported_paths()) {
    SCOPED_TRACE(to_string(path));
    const test::GcRun run = garble_and_evaluate(c, bits, path);
    EXPECT_EQ(run.garbled.and_gates, instances * c.and_count());
    std::vector<uint8_t> want(40);
    for (std::size_t i = 0; i < instances; ++i) {
      c.evaluate_plain(std::span(bits).subspan(i * 64, 64), want);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), run.outputs.begin() + i * 40)) << i;
    }
  }
}

// The same labels garbled at another gate-index range give unrelated tables: the tweaks, not
// only the labels, key every hash (no table is ever reused under one Delta).
TEST(HalfGates, GateIndexRangeChangesEveryTable) {
  const NonlinearCircuit relu = relu_step_circuit(16, 8);
  std::vector<Block> zero(4 * relu.circuit.num_inputs()), out(4 * 16);
  LabelDeriver(os_random_block(), 0).zero_labels(0, zero);
  const Delta delta = Delta::random();
  MemoryByteSink s0, s1;
  const GarbleStats g0 = garble_batch(relu.circuit, zero, delta, 0, s0, out);
  (void)garble_batch(relu.circuit, zero, delta, g0.next_gate_index, s1, out);
  ASSERT_EQ(s0.bytes().size(), s1.bytes().size());
  const std::size_t tables = kStreamHeaderBytes + 16;  // first table byte after the headers
  for (std::size_t t = tables; t + 16 <= tables + g0.table_bytes; t += 16) {
    ASSERT_NE(std::memcmp(s0.bytes().data() + t, s1.bytes().data() + t, 16), 0) << t;
  }
}

TEST(HalfGates, RejectsBadArguments) {
  const NonlinearCircuit relu = relu_step_circuit(16, 8);
  std::vector<Block> zero(2 * relu.circuit.num_inputs()), out(2 * 16);
  MemoryByteSink sink;
  // An offset with lsb 0 cannot reach garble_batch: no Delta holds one.
  EXPECT_THROW((void)Delta::from_block(Block(2, 3)), InvalidArgument);
  std::vector<Block> short_out(5);
  EXPECT_THROW((void)garble_batch(relu.circuit, zero, Delta::random(), 0, sink, short_out),
               InvalidArgument);
  std::vector<Block> ragged(relu.circuit.num_inputs() + 1);
  EXPECT_THROW((void)garble_batch(relu.circuit, ragged, Delta::random(), 0, sink, out),
               InvalidArgument);
  EXPECT_THROW(
      (void)garble_batch(relu.circuit, zero, Delta::random(), kMaxGateIndex - 10, sink, out),
      InvalidArgument);
}

}  // namespace
}  // namespace pinfer::gc
