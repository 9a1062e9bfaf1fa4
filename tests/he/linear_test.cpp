#include "pinfer/he/linear.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/he/lphe.hpp"

namespace pinfer::he {
namespace {

// Plaintext ring reference: conv2d with zero padding (cross-correlation) or matrix-vector.
std::vector<uint64_t> reference(const LinearGeometry& g, const std::vector<uint64_t>& w,
                                const std::vector<uint64_t>& r, const Ring& ring) {
  std::vector<uint64_t> out(linear_output_size(g), 0);
  if (const auto* fc = std::get_if<FcGeometry>(&g)) {
    for (std::size_t o = 0; o < fc->out_features; ++o) {
      uint64_t acc = 0;
      for (std::size_t i = 0; i < fc->in_features; ++i) acc += w[o * fc->in_features + i] * r[i];
      out[o] = ring.reduce(acc);
    }
    return out;
  }
  const auto& c = std::get<ConvGeometry>(g);
  const std::size_t oh = c.out_h(), ow = c.out_w();
  for (std::size_t o = 0; o < c.out_channels; ++o) {
    for (std::size_t y = 0; y < oh; ++y) {
      for (std::size_t x = 0; x < ow; ++x) {
        uint64_t acc = 0;
        for (std::size_t ci = 0; ci < c.in_channels; ++ci) {
          for (std::size_t i = 0; i < c.kernel_h; ++i) {
            for (std::size_t j = 0; j < c.kernel_w; ++j) {
              const int64_t row =
                  static_cast<int64_t>(y * c.stride_h + i) - static_cast<int64_t>(c.pad_top);
              const int64_t col =
                  static_cast<int64_t>(x * c.stride_w + j) - static_cast<int64_t>(c.pad_left);
              if (row < 0 || col < 0 || row >= static_cast<int64_t>(c.in_h) ||
                  col >= static_cast<int64_t>(c.in_w)) {
                continue;
              }
              acc += w[((o * c.in_channels + ci) * c.kernel_h + i) * c.kernel_w + j] *
                     r[(ci * c.in_h + static_cast<std::size_t>(row)) * c.in_w +
                       static_cast<std::size_t>(col)];
            }
          }
        }
        out[(o * oh + y) * ow + x] = ring.reduce(acc);
      }
    }
  }
  return out;
}

ConvGeometry conv(std::size_t c, std::size_t h, std::size_t w, std::size_t m, std::size_t k,
                  std::size_t stride, std::size_t pad) {
  return ConvGeometry{c, h, w, m, k, k, stride, stride, pad, pad, pad, pad};
}

struct Fixture {
  Context ctx;
  Prg prg = Prg::from_seed(Block(0x1234, 0x5678));  // reproducible test inputs
  ClientKeys keys;
  explicit Fixture(unsigned l) : ctx(Context::create(l)), keys(ctx, prg) {}
};

enum class Values { uniform, extreme };

void check_layer(Fixture& f, const LinearGeometry& g, const std::string& name,
                 LinearServerOptions options = {}, Values values = Values::uniform) {
  const Ring ring = f.ctx.ring();
  std::vector<uint64_t> w(linear_weight_size(g)), r(linear_input_size(g));
  f.prg.fill_ring(ring, w);
  f.prg.fill_ring(ring, r);
  if (values == Values::extreme) {
    // Largest centered magnitudes: w = -2^(l-1) (the most negative weight), r = 2^l - 1.
    std::fill(w.begin(), w.end(), uint64_t{1} << (ring.bits() - 1));
    std::fill(r.begin(), r.end(), ring.mask());
  }
  const LinearServer server(f.ctx, g, w, options);
  const auto query = encrypt_linear_input(f.ctx, f.keys, g, r, f.prg);
  EXPECT_EQ(query.size(), server.plan().query_bytes) << name;
  std::vector<uint64_t> s(linear_output_size(g));
  const auto response = server.evaluate(query, f.keys.public_key(), f.prg, s);
  EXPECT_EQ(response.size(), server.plan().response_bytes) << name;
  const auto got = decrypt_linear_output(f.ctx, f.keys, g, response);
  const auto want = reference(g, w, r, ring);
  ASSERT_EQ(got.size(), want.size()) << name;
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < want.size(); ++i) wrong += ring.add(got[i], s[i]) != want[i];
  EXPECT_EQ(wrong, 0u) << name << ": " << wrong << " of " << want.size() << " outputs differ";
}

TEST(LinearLayer, ConvMatchesPlaintextRingL32) {
  Fixture f(32);
  check_layer(f, conv(3, 8, 8, 4, 3, 1, 1), "3x3 s1 p1");
  check_layer(f, conv(7, 6, 6, 5, 1, 1, 0), "1x1 s1");
  check_layer(f, conv(5, 9, 7, 6, 3, 2, 1), "3x3 s2 odd sizes");
  check_layer(f, conv(2, 11, 11, 3, 7, 2, 3), "7x7 s2 p3");
  check_layer(f, conv(4, 8, 8, 8, 1, 2, 0), "1x1 s2 shortcut");
  check_layer(f, ConvGeometry{3, 7, 9, 2, 3, 2, 1, 2, 1, 0, 0, 1},
              "3x2 kernel, mixed stride, asymmetric pad");
}

TEST(LinearLayer, ConvMatchesPlaintextRingL37ManyBlocks) {
  Fixture f(37);
  check_layer(f, conv(40, 16, 16, 20, 3, 1, 1), "channels split over several ciphertexts");
  check_layer(f, conv(1, 100, 100, 2, 3, 1, 1), "spatial tiling (102x102 > N)");
  check_layer(f, conv(13, 20, 20, 9, 3, 1, 1), "13 channels (not dividing N)");
  check_layer(f, conv(3, 15, 15, 4, 7, 2, 3), "7x7 stride 2");
}

TEST(LinearLayer, RowSplitLayersMatchPlaintextRing) {
  // Shapes whose halo pushes a whole-image input block just past N / m: the planner evaluates
  // output rows [0, y) and [y, out_h) as two parts with their own tilings (docs/HE.md section 3).
  Fixture f(32);
  const LinearGeometry s1 = conv(4, 64, 64, 4, 3, 1, 1), s2 = conv(4, 90, 90, 4, 3, 2, 1);
  EXPECT_EQ(plan_linear(f.ctx, s1).split_row, 60u);
  EXPECT_EQ(plan_linear(f.ctx, s2).split_row, 43u);
  check_layer(f, s1, "row split, stride 1");
  check_layer(f, s2, "row split, stride 2");
  check_layer(f, s1, "row split, no weight cache", LinearServerOptions{0});
  Fixture g(37);
  const LinearGeometry s3 = conv(8, 64, 64, 8, 3, 1, 1);
  EXPECT_NE(plan_linear(g.ctx, s3).split_row, 0u);
  check_layer(g, s3, "row split, l = 37");
  check_layer(g, s3, "row split, extreme values", {}, Values::extreme);
}

TEST(LinearLayer, RowSplitQueryAndResponseAreCheckedPerPart) {
  Fixture f(32);
  const LinearGeometry g = conv(4, 64, 64, 4, 3, 1, 1);
  std::vector<uint64_t> w(linear_weight_size(g), 3), r(linear_input_size(g), 5),
      s(linear_output_size(g));
  const LinearServer server(f.ctx, g, w);
  const auto query = encrypt_linear_input(f.ctx, f.keys, g, r, f.prg);
  // The first part: output rows [0, 60), input rows [0, 61), padding kept at the top only.
  const LinearGeometry top = ConvGeometry{4, 61, 64, 4, 3, 3, 1, 1, 1, 1, 0, 1};
  // The second part's header starts after the first part's query: swap in the wrong fingerprint.
  auto swapped = query;
  const std::size_t second = plan_linear(f.ctx, top).query_bytes;
  ASSERT_LT(second + 16, swapped.size());
  std::copy(query.begin() + 8, query.begin() + 16, swapped.begin() + static_cast<long>(second) + 8);
  EXPECT_THROW((void)server.evaluate(swapped, f.keys.public_key(), f.prg, s), FormatError);
  auto truncated = query;
  truncated.pop_back();
  EXPECT_THROW((void)server.evaluate(truncated, f.keys.public_key(), f.prg, s), FormatError);
  const auto response = server.evaluate(query, f.keys.public_key(), f.prg, s);
  const auto resp_first = plan_linear(f.ctx, top).response_bytes;
  EXPECT_EQ(decrypt_linear_output(f.ctx, f.keys, g, response).size(), s.size());
  auto bad = response;
  bad[resp_first] ^= std::byte{1};  // magic of the second part
  EXPECT_THROW((void)decrypt_linear_output(f.ctx, f.keys, g, bad), FormatError);
  bad = response;
  bad.pop_back();
  EXPECT_THROW((void)decrypt_linear_output(f.ctx, f.keys, g, bad), FormatError);
}

TEST(LinearLayer, WeightsTransformedOnUseMatchCachedOnes) {
  Fixture f(37);
  const LinearGeometry g = conv(40, 16, 16, 20, 3, 1, 1);
  check_layer(f, g, "no weight cache", LinearServerOptions{0});
  // Cache only part of the weight polynomials (one of them).
  const std::size_t one_poly = plan_linear(f.ctx, g).limbs * f.ctx.n() * sizeof(uint64_t);
  check_layer(f, g, "partial weight cache", LinearServerOptions{one_poly});
}

TEST(LinearLayer, ExtremeWeightsAndInputs) {
  Fixture f(37);
  check_layer(f, conv(64, 6, 6, 8, 3, 1, 1), "conv, |w| = 2^(l-1), r = 2^l - 1", {},
              Values::extreme);
  check_layer(f, FcGeometry{2000, 4}, "fc, |w| = 2^(l-1), r = 2^l - 1", {}, Values::extreme);
  Fixture g(44);
  check_layer(g, conv(16, 8, 8, 8, 3, 2, 1), "l = 44 extreme", {}, Values::extreme);
}

TEST(LinearLayer, SmallRingL16) {
  Fixture f(16);
  check_layer(f, conv(5, 9, 9, 6, 3, 2, 1), "l = 16 conv (large query compression)");
  check_layer(f, FcGeometry{100, 10}, "l = 16 fc");
  EXPECT_GT(plan_linear(f.ctx, FcGeometry{100, 10}).query_drop_bits, 20u);
}

TEST(LinearLayer, FullyConnectedMatchesPlaintextRing) {
  Fixture f32(32);
  check_layer(f32, FcGeometry{10, 7}, "fc 10->7");
  check_layer(f32, FcGeometry{1, 1}, "fc 1->1");
  Fixture f37(37);
  check_layer(f37, FcGeometry{300, 50}, "fc 300->50");
  check_layer(f37, FcGeometry{9000, 3}, "fc 9000->3 (input longer than N)");
}

TEST(LinearLayer, PlanReportsConsistentSizes) {
  const Context ctx = Context::create(37);
  const LinearGeometry g = conv(64, 16, 16, 64, 3, 1, 1);
  const LinearPlan p = plan_linear(ctx, g);
  EXPECT_GT(p.limbs, 0u);
  EXPECT_LE(p.limbs, ctx.max_limbs());
  EXPECT_LE(p.mg * p.cw * p.ib_h * p.ib_w, ctx.n());
  EXPECT_EQ(p.output_cts, p.n_groups * p.n_hblocks * p.n_wblocks);
  EXPECT_EQ(p.input_cts, p.n_cblocks * p.n_hblocks * p.n_wblocks);
  EXPECT_LT(p.noise_log2 + 37 + 2, p.log2_q);
  EXPECT_THROW((void)plan_linear(ctx, conv(0, 4, 4, 1, 3, 1, 1)), InvalidArgument);
  EXPECT_THROW((void)plan_linear(ctx, conv(1, 2, 2, 1, 5, 1, 0)), InvalidArgument);
}

TEST(LinearLayer, ServerSurvivesMovingTheContext) {
  Context original = Context::create(32);
  const LinearGeometry g = FcGeometry{20, 5};
  std::vector<uint64_t> w(100), r(20), s(5);
  Prg prg = Prg::from_seed(Block(7, 7));
  prg.fill_ring(original.ring(), w);
  prg.fill_ring(original.ring(), r);
  const LinearServer server(original, g, w);
  const Context ctx = std::move(original);
  const ClientKeys keys(ctx, prg);
  const auto resp =
      server.evaluate(encrypt_linear_input(ctx, keys, g, r, prg), keys.public_key(), prg, s);
  const auto out = decrypt_linear_output(ctx, keys, g, resp);
  const auto want = reference(g, w, r, ctx.ring());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(ctx.ring().add(out[i], s[i]), want[i]);
}

TEST(LinearLayer, RejectsBadInputsFromTheCaller) {
  Fixture f(32);
  const LinearGeometry g = FcGeometry{4, 2};
  std::vector<uint64_t> r(4, 1);
  r[2] = uint64_t{1} << 32;  // not reduced mod 2^32
  EXPECT_THROW((void)encrypt_linear_input(f.ctx, f.keys, g, r, f.prg), InvalidArgument);
  r.resize(3);
  EXPECT_THROW((void)encrypt_linear_input(f.ctx, f.keys, g, r, f.prg), InvalidArgument);
  EXPECT_THROW(LinearServer(f.ctx, g, std::vector<uint64_t>(7, 0)), InvalidArgument);
}

class TamperTest : public ::testing::Test {
 protected:
  Fixture f{32};
  LinearGeometry g = conv(2, 5, 5, 3, 3, 1, 1);
  std::vector<uint64_t> w = std::vector<uint64_t>(linear_weight_size(g), 3);
  std::vector<uint64_t> r = std::vector<uint64_t>(linear_input_size(g), 5);
  std::vector<uint64_t> s = std::vector<uint64_t>(linear_output_size(g));
};

TEST_F(TamperTest, TruncatedOrExtendedQueryIsFormatError) {
  const LinearServer server(f.ctx, g, w);
  auto q = encrypt_linear_input(f.ctx, f.keys, g, r, f.prg);
  auto shorter = q;
  shorter.pop_back();
  EXPECT_THROW((void)server.evaluate(shorter, f.keys.public_key(), f.prg, s), FormatError);
  auto longer = q;
  longer.push_back(std::byte{0});
  EXPECT_THROW((void)server.evaluate(longer, f.keys.public_key(), f.prg, s), FormatError);
  EXPECT_THROW((void)server.evaluate(std::span(q).first(10), f.keys.public_key(), f.prg, s),
               FormatError);
}

TEST_F(TamperTest, TamperedQueryIsFormatError) {
  const LinearServer server(f.ctx, g, w);
  const auto q = encrypt_linear_input(f.ctx, f.keys, g, r, f.prg);
  auto bad_magic = q;
  bad_magic[0] ^= std::byte{1};
  EXPECT_THROW((void)server.evaluate(bad_magic, f.keys.public_key(), f.prg, s), FormatError);
  auto bad_fp = q;
  bad_fp[9] ^= std::byte{0x40};
  EXPECT_THROW((void)server.evaluate(bad_fp, f.keys.public_key(), f.prg, s), FormatError);
  // First coefficient set to all ones (2^bits - 1): larger than the largest valid value
  // floor((Q_L - 1) / 2^k) + 1 for this layer.
  auto unreduced = q;
  const unsigned bits = server.plan().query_coeff_bits;
  for (unsigned b = 0; b < bits; ++b) {
    unreduced[40 + b / 8] |= std::byte(static_cast<uint8_t>(1u << (b % 8)));
  }
  EXPECT_THROW((void)server.evaluate(unreduced, f.keys.public_key(), f.prg, s), FormatError);
  // A query for another layer (same byte count is impossible to guess; fingerprint differs).
  const LinearGeometry other = conv(2, 5, 5, 3, 3, 1, 0);
  const LinearServer other_server(f.ctx, other, w);
  if (other_server.plan().query_bytes == q.size()) {
    std::vector<uint64_t> s2(linear_output_size(other));
    EXPECT_THROW((void)other_server.evaluate(q, f.keys.public_key(), f.prg, s2), FormatError);
  }
}

TEST_F(TamperTest, TruncatedOrTamperedResponseIsFormatError) {
  const LinearServer server(f.ctx, g, w);
  const auto q = encrypt_linear_input(f.ctx, f.keys, g, r, f.prg);
  const auto resp = server.evaluate(q, f.keys.public_key(), f.prg, s);
  auto shorter = resp;
  shorter.pop_back();
  EXPECT_THROW((void)decrypt_linear_output(f.ctx, f.keys, g, shorter), FormatError);
  auto bad = resp;
  bad[1] ^= std::byte{0x10};
  EXPECT_THROW((void)decrypt_linear_output(f.ctx, f.keys, g, bad), FormatError);
  bad = resp;
  bad[16] ^= std::byte{0x01};  // ciphertext count
  EXPECT_THROW((void)decrypt_linear_output(f.ctx, f.keys, g, bad), FormatError);
  EXPECT_THROW((void)decrypt_linear_output(f.ctx, f.keys, conv(2, 5, 5, 3, 3, 2, 1), resp),
               FormatError);
}

TEST_F(TamperTest, PublicKeyRoundTripAndRejection) {
  const auto bytes = f.keys.public_key().serialize();
  const PublicKey pk = PublicKey::deserialize(f.ctx, bytes);
  EXPECT_TRUE(
      std::equal(pk.b_ntt().begin(), pk.b_ntt().end(), f.keys.public_key().b_ntt().begin()));
  EXPECT_TRUE(
      std::equal(pk.a_ntt().begin(), pk.a_ntt().end(), f.keys.public_key().a_ntt().begin()));
  // The deserialized key works for evaluation.
  const LinearServer server(f.ctx, g, w);
  const auto q = encrypt_linear_input(f.ctx, f.keys, g, r, f.prg);
  const auto resp = server.evaluate(q, pk, f.prg, s);
  const auto out = decrypt_linear_output(f.ctx, f.keys, g, resp);
  const auto want = reference(g, w, r, f.ctx.ring());
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(f.ctx.ring().add(out[i], s[i]), want[i]);

  auto truncated = bytes;
  truncated.resize(bytes.size() - 1);
  EXPECT_THROW((void)PublicKey::deserialize(f.ctx, truncated), FormatError);
  auto extended = bytes;
  extended.push_back(std::byte{0});
  EXPECT_THROW((void)PublicKey::deserialize(f.ctx, extended), FormatError);
  auto bad_magic = bytes;
  bad_magic[2] ^= std::byte{4};
  EXPECT_THROW((void)PublicKey::deserialize(f.ctx, bad_magic), FormatError);
  auto bad_n = bytes;
  bad_n[9] ^= std::byte{1};
  EXPECT_THROW((void)PublicKey::deserialize(f.ctx, bad_n), FormatError);
  auto unreduced = bytes;  // first coefficient = 2^50 - 1 >= p_0
  for (std::size_t i = 36; i < 42; ++i) unreduced[i] = std::byte{0xFF};
  unreduced[42] = std::byte(static_cast<uint8_t>(unreduced[42]) | 0x03);
  EXPECT_THROW((void)PublicKey::deserialize(f.ctx, unreduced), FormatError);
}

TEST(Lphe, ParallelLayersMatchTheReference) {
  Fixture f(37);
  const std::vector<LinearGeometry> layers = {conv(8, 10, 10, 16, 3, 1, 1),
                                              conv(16, 10, 10, 8, 1, 2, 0), FcGeometry{64, 10},
                                              conv(8, 64, 64, 8, 3, 1, 1)};  // row split
  const Ring ring = f.ctx.ring();
  std::vector<std::vector<uint64_t>> ws, rs, ss;
  std::vector<LinearServer> servers;
  std::vector<std::vector<std::byte>> queries;
  for (const auto& g : layers) {
    ws.emplace_back(linear_weight_size(g));
    rs.emplace_back(linear_input_size(g));
    ss.emplace_back(linear_output_size(g));
    f.prg.fill_ring(ring, ws.back());
    f.prg.fill_ring(ring, rs.back());
    servers.emplace_back(f.ctx, g, ws.back());
    queries.push_back(encrypt_linear_input(f.ctx, f.keys, g, rs.back(), f.prg));
  }
  std::vector<LayerTask> tasks;
  for (std::size_t k = 0; k < layers.size(); ++k) tasks.push_back({&servers[k], queries[k], ss[k]});
  const auto responses = evaluate_layers(tasks, f.keys.public_key(), 2);
  ASSERT_EQ(responses.size(), layers.size());
  for (std::size_t k = 0; k < layers.size(); ++k) {
    const auto got = decrypt_linear_output(f.ctx, f.keys, layers[k], responses[k]);
    const auto want = reference(layers[k], ws[k], rs[k], ring);
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(ring.add(got[i], ss[k][i]), want[i]) << "layer " << k << " output " << i;
    }
  }
  // A malformed query in one task surfaces as FormatError from the pool.
  auto broken = queries[0];
  broken[0] ^= std::byte{1};
  tasks[0].query = broken;
  EXPECT_THROW((void)evaluate_layers(tasks, f.keys.public_key(), 2), FormatError);
}

}  // namespace
}  // namespace pinfer::he
