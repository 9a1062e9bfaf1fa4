// Three-halves garbling (Rosulek-Roy, CRYPTO 2021): known answers recomputed from raw AES and
// the paper's matrices by Gaussian elimination, every input combination, random circuits, the
// non-linear circuits, bytes per AND, and byte-identical output for any thread count.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include "gc/gc_test_util.hpp"
#include "pinfer/core/aes.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/ring.hpp"
#include "pinfer/gc/circuit_builder.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"

namespace pinfer::gc {
namespace {

using test::garble_and_evaluate;
using test::options_for;
using test::seed_text;
using test::seeded_prg;
using test::supported_paths;

constexpr GcScheme k3h = GcScheme::three_halves;

// ---- An independent model of one garbled AND gate, from the paper's matrices ----------------
// Rows of V (8 x 5 over GF(2)): the evaluator with colours (i, j) computes
// C = M h + V_ij (C_L, C_R, G0, G1, G2), V_ij = [1 0 i 0 i^j; 0 1 0 j i^j].
std::array<uint8_t, 5> v_row(int i, int j, int half) {
  if (half == 0) return {1, 0, static_cast<uint8_t>(i), 0, static_cast<uint8_t>(i ^ j)};
  return {0, 1, 0, static_cast<uint8_t>(j), static_cast<uint8_t>(i ^ j)};
}
// Decoding matrices over (A_L, A_R, B_L, B_R): R_ij = r0 S1 ^ r1 S2 ^ Rp_ij.
constexpr uint8_t kS1[2][4] = {{1, 1, 1, 0}, {1, 0, 0, 1}};
constexpr uint8_t kS2[2][4] = {{1, 0, 0, 1}, {0, 1, 1, 1}};
constexpr uint8_t kRp[4][2][4] = {{{0, 0, 1, 0}, {0, 1, 0, 0}},
                                  {{0, 0, 1, 0}, {0, 0, 0, 0}},
                                  {{0, 0, 0, 0}, {0, 1, 0, 0}},
                                  {{0, 0, 0, 0}, {0, 0, 0, 0}}};

struct Material {
  uint64_t g[3];
  uint8_t z[5];
  Block c0;
};

// Solves V X = rhs (8 equations, 5 unknowns, u64 or bit right-hand sides) by elimination and
// checks the 3 dependent equations hold: the construction is consistent for these values.
template <class T>
std::array<T, 5> solve(std::array<std::array<uint8_t, 5>, 8> v, std::array<T, 8> rhs) {
  int row = 0;
  for (int col = 0; col < 5; ++col) {
    int p = row;
    while (p < 8 && !v[p][col]) ++p;
    EXPECT_LT(p, 8);
    std::swap(v[p], v[row]);
    std::swap(rhs[p], rhs[row]);
    for (int r = 0; r < 8; ++r) {
      if (r != row && v[r][col]) {
        for (int c = 0; c < 5; ++c) v[r][c] ^= v[row][c];
        rhs[r] ^= rhs[row];
      }
    }
    ++row;
  }
  for (int r = 5; r < 8; ++r) EXPECT_EQ(rhs[r], T{0}) << "inconsistent equation " << r;
  std::array<T, 5> x{};
  for (int r = 0; r < 5; ++r) {
    for (int c = 0; c < 5; ++c) {
      if (v[r][c]) x[c] = rhs[r];
    }
  }
  return x;
}

Material model_gate(const Aes128& pi, const Block& a0, const Block& b0, const Block& delta,
                    uint64_t g, unsigned rho1, unsigned rho2) {
  const auto p1 = [&](const Block& v) {
    Block in[1] = {v}, out[1];
    pi.encrypt_ecb_with(CpuPath::openssl, in, out);
    return out[0];
  };
  const auto h = [&](const Block& v, uint64_t t) { return p1(p1(v) ^ Block(t, 0)) ^ p1(v); };
  const unsigned pa = a0.lo & 1, pb = b0.lo & 1;
  const Block ac = pa ? a0 ^ delta : a0, bc = pb ? b0 ^ delta : b0;
  const unsigned a = pa ^ 1, b = pb ^ 1;  // colours of the AND's 1
  const uint8_t zr[5] = {static_cast<uint8_t>(rho1), static_cast<uint8_t>(rho2),
                         static_cast<uint8_t>(a), static_cast<uint8_t>(b),
                         static_cast<uint8_t>(a ^ b)};
  std::array<std::array<uint8_t, 5>, 8> v{};
  std::array<uint64_t, 8> rhs{};
  std::array<uint8_t, 8> rhs_bits{};
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      const Block ai = i ? ac ^ delta : ac, bj = j ? bc ^ delta : bc;
      const Block ha = h(ai, 3 * g), hb = h(bj, 3 * g + 1), hx = h(ai ^ bj, 3 * g + 2);
      const uint64_t lab[4] = {ai.lo, ai.hi, bj.lo, bj.hi};
      uint8_t r[2];
      for (int half = 0; half < 2; ++half) {
        const auto row = v_row(i, j, half);
        uint8_t bit = 0;
        for (int c = 0; c < 5; ++c) bit ^= row[c] & zr[c];
        r[half] = bit;
      }
      for (int half = 0; half < 2; ++half) {
        const int e = 2 * (2 * i + j) + half;
        v[e] = v_row(i, j, half);
        uint64_t val = (half == 0 ? ha.lo : hb.lo) ^ hx.lo;
        for (int c = 0; c < 4; ++c) {
          const uint8_t m = (r[0] & kS1[half][c]) ^ (r[1] & kS2[half][c]) ^ kRp[2 * i + j][half][c];
          if (m) val ^= lab[c];
        }
        if (i == static_cast<int>(a) && j == static_cast<int>(b))
          val ^= half == 0 ? delta.lo : delta.hi;
        rhs[e] = val;
        rhs_bits[e] = static_cast<uint8_t>(r[half] ^ (((half == 0 ? ha.hi : hb.hi) ^ hx.hi) & 1));
      }
    }
  }
  const auto x = solve(v, rhs);
  const auto zb = solve(v, rhs_bits);
  Material m;
  m.c0 = Block(x[0], x[1]);
  for (int k = 0; k < 3; ++k) m.g[k] = x[2 + k];
  for (int k = 0; k < 5; ++k) m.z[k] = zb[k];
  return m;
}

Circuit one_and() {
  CircuitBuilder b;
  const Bit x = b.input(), y = b.input();
  b.output(b.and_(x, y));
  return b.build();
}

// Known answer: one AND gate's bytes are what the model computes from AES (hash key from the
// header, coins from AES-CTR under the coin seed) on every path, for random labels and Delta.
TEST(ThreeHalves, MatchesLinearAlgebraModel) {
  const Circuit c = one_and();
  for (int trial = 0; trial < 24; ++trial) {
    const Delta delta = Delta::random();
    const Block key = os_random_block(), coin_seed = os_random_block();
    const Block zero[2] = {os_random_block(), os_random_block()};
    const uint64_t g = 777 + 13 * trial;
    Block ks[1];
    Aes128(coin_seed).ctr_keystream(0, 0, ks);  // batch 0, coins of AND 0 in its low 2 bits
    const Material want =
        model_gate(Aes128(key), zero[0], zero[1], delta, g, ks[0].lo & 1, (ks[0].lo >> 1) & 1);
    for (CpuPath path : supported_paths()) {
      SCOPED_TRACE(std::string(to_string(path)) + " trial " + std::to_string(trial));
      GcOptions opt = options_for(path, k3h);
      opt.hash_key = key;
      opt.coin_seed = coin_seed;
      MemoryByteSink sink;
      Block out_zero[1];
      const GarbleStats st = garble_batch(c, zero, delta, g, sink, out_zero, opt);
      ASSERT_EQ(st.table_bytes, 24u + 40u);  // G0 G1 G2, five one-word control planes
      uint64_t words[8];
      std::memcpy(words, sink.bytes().data() + kStreamHeaderBytes + 16, sizeof words);
      EXPECT_EQ(words[0], want.g[0]);
      EXPECT_EQ(words[1], want.g[1]);
      EXPECT_EQ(words[2], want.g[2]);
      for (int p = 0; p < 5; ++p) EXPECT_EQ(words[3 + p], uint64_t{want.z[p]}) << "z" << p;
      EXPECT_EQ(out_zero[0], want.c0);
    }
  }
}

// Every input combination, plain and negated inputs, on every path: the evaluator holds exactly
// the active output label (zero-label, or zero-label ^ Delta), over enough gates that every
// (colour, coin) case occurs.
TEST(ThreeHalves, EveryInputCombinationGivesTheActiveLabel) {
  CircuitBuilder b;
  const Bit x = b.input(), y = b.input();
  b.output(b.and_(x, y));
  b.output(b.and_(b.not_(x), y));
  b.output(b.and_(x, b.not_(y)));
  b.output(b.and_(b.not_(x), b.not_(y)));
  const Circuit c = b.build();
  const std::size_t instances = 600;
  for (CpuPath path : supported_paths()) {
    SCOPED_TRACE(to_string(path));
    const Delta delta = Delta::random();
    const test::InputLabels in = test::random_input_labels(instances * 2, delta);
    std::vector<Block> out_zero(instances * 4), out(instances * 4);
    MemoryByteSink sink;
    const GcOptions opt = options_for(path, k3h);
    (void)garble_batch(c, in.zero, delta, 9, sink, out_zero, opt);
    MemoryByteSource src(sink.bytes());
    (void)evaluate_batch(c, in.active, 9, src, out, opt);
    src.finish();
    for (std::size_t i = 0; i < instances; ++i) {
      const int xv = in.bits[2 * i], yv = in.bits[2 * i + 1];
      const int want[4] = {xv & yv, (1 - xv) & yv, xv & (1 - yv), (1 - xv) & (1 - yv)};
      for (int o = 0; o < 4; ++o) {
        const Block& z = out_zero[4 * i + o];
        ASSERT_EQ(out[4 * i + o], want[o] ? z ^ delta : z) << "instance " << i << " out " << o;
      }
    }
  }
}

// Random circuits of AND, XOR and NOT against plaintext evaluation.
TEST(ThreeHalves, RandomCircuitsMatchPlaintext) {
  Block seed;
  Prg prg = seeded_prg(&seed);
  SCOPED_TRACE(seed_text(seed));
  for (int round = 0; round < 6; ++round) {
    CircuitBuilder b;
    std::vector<Bit> pool = b.input_word(12);
    for (int t = 0; t < 400; ++t) {
      const Bit x = pool[prg.uniform_below(pool.size())], y = pool[prg.uniform_below(pool.size())];
      Bit v = prg.uniform_below(3) == 0 ? b.xor_(x, y) : b.and_(x, y);
      if (prg.uniform_below(4) == 0) v = b.not_(v);
      pool.push_back(v);
    }
    for (std::size_t i = pool.size() - 24; i < pool.size(); ++i) b.output(pool[i]);
    const Circuit c = b.build();
    const std::size_t instances = 50;
    std::vector<uint8_t> bits(instances * 12);
    prg.fill_bits(bits);
    for (CpuPath path : supported_paths()) {
      SCOPED_TRACE(std::string(to_string(path)) + " round " + std::to_string(round));
      const test::GcRun run = garble_and_evaluate(c, bits, options_for(path, k3h), 31);
      EXPECT_EQ(run.garbled.and_gates, instances * c.and_count());
      std::vector<uint8_t> want(24);
      for (std::size_t i = 0; i < instances; ++i) {
        c.evaluate_plain(std::span(bits).subspan(i * 12, 12), want);
        ASSERT_TRUE(std::equal(want.begin(), want.end(), run.outputs.begin() + i * 24)) << i;
      }
    }
  }
}

std::vector<uint8_t> relu_bits(const NonlinearCircuit& nl, unsigned l, std::span<const uint64_t> a,
                               std::span<const uint64_t> c, std::span<const uint64_t> r,
                               unsigned n) {
  const uint32_t width = nl.circuit.num_inputs();
  std::vector<uint8_t> bits(r.size() * width);
  for (std::size_t i = 0; i < r.size(); ++i) {
    auto in = std::span(bits).subspan(i * width, width);
    for (unsigned j = 0; j < n; ++j) {
      word_to_bits(a[i * n + j], in.subspan(nl.a_offset(j), l));
      word_to_bits(c[i * n + j], in.subspan(nl.c_offset(j), l));
    }
    word_to_bits(r[i], in.subspan(nl.r_offset(), l));
  }
  return bits;
}

// The ReLU step and max-pool circuits decode bit-exactly to the ring reference; 700 ReLUs span
// a full and a partial batch.
TEST(ThreeHalves, ReluAndMaxpoolDecodeToReference) {
  Block seed;
  Prg prg = seeded_prg(&seed);
  SCOPED_TRACE(seed_text(seed));
  for (auto [l, f] : {std::pair{16u, 8u}, {32u, 8u}, {37u, 12u}}) {
    const Ring ring(l);
    const NonlinearCircuit relu = relu_step_circuit(l, f);
    const std::size_t instances = 700;
    std::vector<uint64_t> a(instances), c(instances), r(instances);
    prg.fill_ring(ring, a);
    prg.fill_ring(ring, c);
    prg.fill_ring(ring, r);
    const std::vector<uint8_t> bits = relu_bits(relu, l, a, c, r, 1);
    for (CpuPath path : supported_paths()) {
      SCOPED_TRACE(std::string(to_string(path)) + " l " + std::to_string(l));
      const test::GcRun run = garble_and_evaluate(relu.circuit, bits, options_for(path, k3h), 5);
      EXPECT_EQ(run.stream.size(), garbled_stream_bytes(relu.circuit, instances, k3h));
      for (std::size_t i = 0; i < instances; ++i) {
        const uint64_t got = word_from_bits(std::span(run.outputs).subspan(i * l, l));
        ASSERT_EQ(got, relu_step_reference(ring, f, a[i], c[i], r[i])) << "instance " << i;
      }
    }
    const unsigned k = 2, n = k * k;
    const NonlinearCircuit pool = maxpool_relu_circuit(l, f, k);
    const std::size_t windows = 60;
    std::vector<uint64_t> pa(windows * n), pc(windows * n), pr(windows);
    prg.fill_ring(ring, pa);
    prg.fill_ring(ring, pc);
    prg.fill_ring(ring, pr);
    const std::vector<uint8_t> pbits = relu_bits(pool, l, pa, pc, pr, n);
    const test::GcRun run =
        garble_and_evaluate(pool.circuit, pbits, options_for(gc_active_path(), k3h));
    for (std::size_t i = 0; i < windows; ++i) {
      const uint64_t got = word_from_bits(std::span(run.outputs).subspan(i * l, l));
      const uint64_t want = maxpool_relu_reference(ring, f, std::span(pa).subspan(i * n, n),
                                                   std::span(pc).subspan(i * n, n), pr[i]);
      ASSERT_EQ(got, want) << "window " << i;
    }
  }
}

// Bytes: 1.5 kappa + 5 bits per AND (24.67 B per AND at a full batch), <= 0.78 x half-gates per
// ReLU, and the stream length is what garbled_stream_bytes promises.
TEST(ThreeHalves, TableBytesAreThreeQuartersOfHalfGates) {
  const NonlinearCircuit relu = relu_step_circuit(32, 8);
  const uint64_t n = batch_instances(relu.circuit);
  const uint64_t half = batch_table_bytes(relu.circuit, GcScheme::half_gates, n);
  const uint64_t three = batch_table_bytes(relu.circuit, k3h, n);
  EXPECT_EQ(three, relu.circuit.and_count() * (24 * n + 40 * ((n + 63) / 64)));
  EXPECT_LE(static_cast<double>(three), 0.78 * static_cast<double>(half));
  const uint64_t instances = 3 * n + 17;
  EXPECT_LE(static_cast<double>(garbled_stream_bytes(relu.circuit, instances, k3h)),
            0.78 * static_cast<double>(garbled_stream_bytes(relu.circuit, instances)));
}

// A three-halves stream read as half-gates (or the reverse) is refused by its header.
TEST(ThreeHalves, SchemeMismatchIsFormatError) {
  const Circuit c = one_and();
  const Delta delta = Delta::random();
  const test::InputLabels in = test::random_input_labels(2 * 40, delta);
  std::vector<Block> out(40);
  MemoryByteSink sink;
  (void)garble_batch(c, in.zero, delta, 0, sink, out, options_for(gc_active_path(), k3h));
  MemoryByteSource src(sink.bytes());
  EXPECT_THROW((void)evaluate_batch(c, in.active, 0, src, out), FormatError);
  std::vector<std::byte> corrupt = sink.take();
  corrupt[kStreamHeaderBytes + 16 + 24 * 40] ^= std::byte{1};  // a control bit
  MemoryByteSource bad(corrupt);
  EXPECT_THROW((void)evaluate_batch(c, in.active, 0, bad, out, options_for(gc_active_path(), k3h)),
               FormatError);
}

// One call split over 3 threads writes the same bytes and output labels as on 1 thread, for both
// schemes; evaluation on 3 threads gives the same labels too.
TEST(GcThreads, ThreeThreadsMatchOneByteForByte) {
  const NonlinearCircuit relu = relu_step_circuit(32, 8);
  const std::size_t instances = 5 * batch_instances(relu.circuit) + 33;
  const Delta delta = Delta::random();
  const test::InputLabels in =
      test::random_input_labels(instances * relu.circuit.num_inputs(), delta);
  for (GcScheme scheme : {GcScheme::half_gates, k3h}) {
    SCOPED_TRACE(std::string(to_string(scheme)));
    GcOptions opt = options_for(gc_active_path(), scheme);
    opt.hash_key = os_random_block();
    opt.coin_seed = os_random_block();
    std::vector<std::byte> streams[2];
    std::vector<Block> zeros[2], actives[2];
    for (int v = 0; v < 2; ++v) {
      opt.threads = v == 0 ? 1 : 3;
      MemoryByteSink sink;
      zeros[v].resize(instances * 32);
      const GarbleStats st = garble_batch(relu.circuit, in.zero, delta, 3, sink, zeros[v], opt);
      EXPECT_EQ(st.and_gates, instances * relu.circuit.and_count());
      streams[v] = sink.take();
      actives[v].resize(instances * 32);
      MemoryByteSource src(streams[0]);
      const GarbleStats ev = evaluate_batch(relu.circuit, in.active, 3, src, actives[v], opt);
      src.finish();
      EXPECT_EQ(ev.and_gates, st.and_gates);
    }
    EXPECT_EQ(streams[0], streams[1]);
    EXPECT_EQ(zeros[0], zeros[1]);
    EXPECT_EQ(actives[0], actives[1]);
  }
}

// A corrupt batch on a worker thread still surfaces as FormatError on the caller's thread.
TEST(GcThreads, CorruptBatchOnAWorkerIsFormatError) {
  const NonlinearCircuit relu = relu_step_circuit(16, 8);
  const std::size_t batch = batch_instances(relu.circuit);
  const std::size_t instances = 4 * batch;
  const Delta delta = Delta::random();
  const test::InputLabels in =
      test::random_input_labels(instances * relu.circuit.num_inputs(), delta);
  std::vector<Block> out(instances * 16);
  GcOptions opt = options_for(gc_active_path(), k3h);
  opt.threads = 2;
  MemoryByteSink sink;
  (void)garble_batch(relu.circuit, in.zero, delta, 0, sink, out, opt);
  std::vector<std::byte> bad = sink.take();
  bad[bad.size() - 100] ^= std::byte{8};  // last batch, run by worker 1
  MemoryByteSource src(bad);
  EXPECT_THROW((void)evaluate_batch(relu.circuit, in.active, 0, src, out, opt), FormatError);
  opt.threads = 0;
  MemoryByteSink s2;
  EXPECT_THROW((void)garble_batch(relu.circuit, in.zero, delta, 0, s2, out, opt), InvalidArgument);
}

}  // namespace
}  // namespace pinfer::gc
