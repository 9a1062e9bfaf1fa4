// HE key rotation (docs/HE.md, "Key schedule"): the flooding bound covers at most 2^22 revealed
// coefficients per key, so the plan counts them and starts a fresh key before a layer would pass
// the budget. The boundary exactly, and private inference bit-exact with tiny budgets that force
// rotations (between layers and between the groups of a grouped convolution).
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "nn/onnx_graph.hpp"
#include "pinfer/core/channel_stream.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/he/context.hpp"
#include "pinfer/he/keys.hpp"
#include "pinfer/he/linear.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/quantizer.hpp"
#include "pinfer/protocol/he_geometry.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "protocol/frames.hpp"
#include "protocol/he_key_schedule.hpp"
#include "protocol/linear_he.hpp"
#include "protocol/session_messages.hpp"
#include "session_util.hpp"
#include "test_models.hpp"

using namespace pinfer;
using namespace pinfer::protocol;

namespace {

nn::LinearOp fc(std::size_t out, const std::string& name) {
  nn::LinearOp op;
  op.kind = nn::LinearOp::Kind::fc;
  op.name = name;
  op.in_features = 1;
  op.out_features = out;
  return op;
}

// Only the layers' shapes matter to the schedule.
nn::LoweredModel fc_layers(std::vector<std::size_t> outs) {
  nn::LoweredModel m;
  for (std::size_t i = 0; i < outs.size(); ++i)
    m.linear_ops.push_back(fc(outs[i], "fc" + std::to_string(i)));
  return m;
}

TEST(HeKeySchedule, ExactlyTheBudgetStaysOnOneKeyOneMoreRotates) {
  constexpr uint64_t kBudget = kMaxHeKeyBudget;
  ASSERT_EQ(kBudget, uint64_t{1} << he::Parameters::standard(32).max_revealed_log2);
  const std::size_t half = kBudget / 2;

  const detail::HeKeySchedule exact = detail::plan_he_keys(fc_layers({half, half}), kBudget);
  EXPECT_EQ(exact.keys(), 1u);
  EXPECT_EQ(exact.revealed, (std::vector<uint64_t>{kBudget}));
  EXPECT_TRUE(exact.starts_key(0, 0));
  EXPECT_FALSE(exact.starts_key(1, 0));

  const detail::HeKeySchedule over = detail::plan_he_keys(fc_layers({half, half + 1}), kBudget);
  EXPECT_EQ(over.keys(), 2u);
  EXPECT_EQ(over.revealed, (std::vector<uint64_t>{half, half + 1}));
  EXPECT_EQ(over.key_of, (std::vector<std::vector<uint32_t>>{{0}, {1}}));
  EXPECT_TRUE(over.starts_key(1, 0));

  // One more coefficient after a full key rotates; a layer of exactly the budget fits alone.
  const detail::HeKeySchedule after_full =
      detail::plan_he_keys(fc_layers({kBudget, 1, kBudget - 1, 2}), kBudget);
  EXPECT_EQ(after_full.revealed, (std::vector<uint64_t>{kBudget, kBudget, 2}));
  EXPECT_EQ(after_full.key_of, (std::vector<std::vector<uint32_t>>{{0}, {1}, {1}, {2}}));

  EXPECT_THROW((void)detail::plan_he_keys(fc_layers({kBudget + 1}), kBudget), Unsupported);
  EXPECT_THROW((void)detail::plan_he_keys(fc_layers({4}), 0), InvalidArgument);
}

TEST(HeKeySchedule, GroupsOfAGroupedConvolutionAreLayersOfTheirOwn) {
  nn::LoweredModel m;
  nn::LinearOp conv;
  conv.kind = nn::LinearOp::Kind::conv;
  conv.name = "depthwise";
  nn::ConvGeometry& g = conv.conv;
  g.in_channels = g.out_channels = g.groups = 4;
  g.in_h = g.in_w = 5;
  g.kernel_h = g.kernel_w = 3;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  g.infer_output_size();
  m.linear_ops = {fc(10, "fc"), conv};
  EXPECT_EQ(detail::revealed_coefficients(conv), 25u);  // one group: 1 x 5 x 5
  const detail::HeKeySchedule s = detail::plan_he_keys(m, 60);
  EXPECT_EQ(s.key_of, (std::vector<std::vector<uint32_t>>{{0}, {0, 0, 1, 1}}));
  EXPECT_EQ(s.revealed, (std::vector<uint64_t>{60, 50}));
  EXPECT_FALSE(s.starts_key(1, 0));
  EXPECT_TRUE(s.starts_key(1, 2));
  EXPECT_FALSE(s.starts_key(1, 3));
}

uint64_t max_layer_reveal(const nn::LoweredModel& m) {
  uint64_t r = 0;
  for (const nn::LinearOp& op : m.linear_ops) r = std::max(r, detail::revealed_coefficients(op));
  return r;
}

uint64_t public_key_bytes(unsigned l) {
  const he::Context ctx = he::Context::create(l);
  Prg prg = Prg::from_seed(Block(1, 2));
  return he::ClientKeys(ctx, prg).public_key().serialize().size();
}

// Runs one precompute and inference with the server's key budget; returns the client's report.
CostReport infer_with_budget(const nn::LoweredModel& model, ProtocolKind kind, uint64_t budget,
                             std::size_t expect_keys) {
  test_session::Stores stores("pinfer-hekeys-test");
  InferenceServer server(model, kind, stores.server, stores.registry, {.he_key_budget = budget});
  EXPECT_EQ(server.he_keys(), expect_keys);
  CostReport rep;
  test_session::with_session(
      server, stores.client, {.credentials = stores.registry.register_client({}), .protocol = kind},
      [&](InferenceClient& client) {
        EXPECT_EQ(client.he_keys(), expect_keys);  // the budget came with the handshake
        const FloatTensor x = test_models::random_input(model.input_shape, 3);
        const InferenceResult result = client.infer(x);
        EXPECT_EQ(result.logits_ring,
                  nn::run_fixed_point(model, nn::encode_input(model, x)).values());
        rep = result.cost;
      });
  EXPECT_EQ(rep.he_keys, expect_keys);
  return rep;
}

class HeKeyRotation : public ::testing::TestWithParam<ProtocolKind> {};

TEST_P(HeKeyRotation, TinyBudgetRotatesKeysAndStaysBitExact) {
  const nn::LoweredModel model = test_models::small_test_model(5);
  const uint64_t budget = max_layer_reveal(model);  // the first conv alone fills a key
  const std::size_t keys = detail::plan_he_keys(model, budget).keys();
  ASSERT_GE(keys, 2u);
  const CostReport one = infer_with_budget(model, GetParam(), kMaxHeKeyBudget, 1);
  const CostReport many = infer_with_budget(model, GetParam(), budget, keys);
  // The only extra upload: one public key per further key (plus its frame header).
  const uint64_t extra = many.offline.transfers.at("offline/he").bytes_sent -
                         one.offline.transfers.at("offline/he").bytes_sent;
  EXPECT_GE(extra, (keys - 1) * public_key_bytes(model.l));
  EXPECT_LE(extra, (keys - 1) * (public_key_bytes(model.l) + 64));
}

TEST_P(HeKeyRotation, RotatesBetweenTheGroupsOfAGroupedConvolution) {
  std::vector<FloatTensor> calib;
  const nn::Model m = test_onnx::models::grouped();
  for (uint64_t i = 0; i < 2; ++i) calib.push_back(test_models::random_input(m.input_shape(), i));
  const nn::LoweredModel model = nn::lower(m, calib, {.frac_bits = 10});
  // The smallest budget (every layer fits) whose schedule starts a key inside a grouped op.
  const auto rotates_inside_an_op = [](const detail::HeKeySchedule& s) {
    for (std::size_t op = 0; op < s.key_of.size(); ++op) {
      for (std::size_t g = 1; g < s.key_of[op].size(); ++g) {
        if (s.starts_key(op, g)) return true;
      }
    }
    return false;
  };
  uint64_t budget = max_layer_reveal(model);
  while (!rotates_inside_an_op(detail::plan_he_keys(model, budget)) && budget < 1'000'000) {
    ++budget;
  }
  const detail::HeKeySchedule s = detail::plan_he_keys(model, budget);
  const bool within_op = rotates_inside_an_op(s);
  ASSERT_TRUE(within_op);
  (void)infer_with_budget(model, GetParam(), budget, s.keys());
}

TEST(HeKeyRotation, ServerRefusesABudgetBeyondTheFloodingBound) {
  test_session::Stores stores("pinfer-hekeys-test");
  const nn::LoweredModel model = test_models::small_test_model(5);
  EXPECT_THROW(InferenceServer(model, ProtocolKind::client_garbler, stores.server, stores.registry,
                               {.he_key_budget = kMaxHeKeyBudget + 1}),
               InvalidArgument);
  EXPECT_THROW(InferenceServer(model, ProtocolKind::client_garbler, stores.server, stores.registry,
                               {.he_key_budget = 0}),
               InvalidArgument);
  // A budget below the largest layer cannot be met by rotating.
  EXPECT_THROW(InferenceServer(model, ProtocolKind::client_garbler, stores.server, stores.registry,
                               {.he_key_budget = max_layer_reveal(model) - 1}),
               Unsupported);
}

// A client that sends its first key again where the schedule starts the second one is refused
// before the server answers any query under it.
TEST(HeKeyRotation, ServerRefusesARepeatedPublicKey) {
  const nn::LoweredModel model = test_models::small_test_model(5);
  const detail::HeKeySchedule s = detail::plan_he_keys(model, max_layer_reveal(model));
  ASSERT_GE(s.keys(), 2u);
  const detail::HeServerModel he_model(model, kDefaultWeightCacheBytes);
  auto [a, b] = make_memory_channel_pair();
  std::exception_ptr server_error;
  std::thread server([&, &sch = *b] {
    try {
      PhaseCost cost;
      (void)detail::he_offline_server(sch, model, s, he_model, cost);
    } catch (...) {
      server_error = std::current_exception();
    }
  });
  const he::Context ctx = he::Context::create(model.l);
  Prg prg;
  const he::ClientKeys key(ctx, prg);
  std::size_t answered = 0;
  for (std::size_t i = 0; i < model.linear_ops.size() && s.key_of[i][0] == 0; ++i) {
    const he::LinearGeometry g = he_geometry(model.linear_ops[i]);
    if (s.starts_key(i, 0)) a->send(frames::kHePublicKey, key.public_key().serialize());
    const std::vector<uint64_t> r(he::linear_input_size(g), 1);
    const std::vector<std::byte> query = he::encrypt_linear_input(ctx, key, g, r, prg);
    ChannelStreamWriter w(*a, frames::kHeQuery, query.size());
    w.write(query);
    w.finish();
    a->flush();
    ChannelStreamReader response(*a, frames::kHeResponse, he::plan_linear(ctx, g).response_bytes);
    std::vector<std::byte> bytes(response.total());
    response.read(bytes);
    response.finish();
    ++answered;
  }
  EXPECT_GE(answered, 1u);
  a->send(frames::kHePublicKey, key.public_key().serialize());  // the same key again
  a->flush();
  server.join();
  ASSERT_TRUE(server_error);
  EXPECT_THROW(std::rethrow_exception(server_error), ProtocolError);
}

TEST(HeKeyRotation, HandshakeCarriesTheBudgetAndRefusesOneOutOfRange) {
  const std::vector<std::byte> arch = {std::byte{1}, std::byte{2}};
  const detail::HelloReply reply{ProtocolKind::server_garbler, arch, 5000};
  EXPECT_EQ(detail::decode_hello_reply(detail::encode(reply)).he_key_budget, 5000u);
  for (uint64_t bad : {uint64_t{0}, kMaxHeKeyBudget + 1}) {
    EXPECT_THROW((void)detail::decode_hello_reply(
                     detail::encode(detail::HelloReply{ProtocolKind::server_garbler, arch, bad})),
                 FormatError)
        << bad;
  }
}

INSTANTIATE_TEST_SUITE_P(Protocols, HeKeyRotation,
                         ::testing::Values(ProtocolKind::server_garbler,
                                           ProtocolKind::client_garbler),
                         test_models::ProtocolName{});

}  // namespace
