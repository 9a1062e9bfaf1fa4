// Operators of torchvision's families (issue 13) through both protocols: each small ONNX graph of
// tests/nn/onnx_graph.hpp is lowered and served, and the client's logits must be bit-exact with
// the fixed-point engine (HE for grouped / per-channel ops, garbled circuits for padded and
// ceil-mode max pools, clips and rescale steps, shares concatenated for Concat).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "nn/onnx_graph.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/quantizer.hpp"
#include "pinfer/protocol/architecture.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "session_util.hpp"
#include "test_models.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
namespace models = pinfer::test_onnx::models;

namespace {

nn::LoweredModel lowered(const nn::Model& m) {
  std::vector<FloatTensor> calib;
  for (uint64_t i = 0; i < 3; ++i)
    calib.push_back(test_models::random_input(m.input_shape(), 50 + i));
  return nn::lower(m, calib, {.frac_bits = 10});
}

// Serves `model` over the in-memory channel and checks two inferences bit-exact.
void check_private_inference(const nn::LoweredModel& model, ProtocolKind kind) {
  test_session::Stores stores("pinfer-ops-test");
  InferenceServer server(model, kind, stores.server, stores.registry);
  test_session::with_session(
      server, stores.client, {.credentials = stores.registry.register_client({}), .protocol = kind},
      [&](InferenceClient& client) {
        for (uint64_t trial = 0; trial < 2; ++trial) {
          const FloatTensor x = test_models::random_input(model.input_shape, 7 + trial);
          const InferenceResult rep = client.infer(x);
          EXPECT_EQ(rep.logits_ring,
                    nn::run_fixed_point(model, nn::encode_input(model, x)).values())
              << model.name << " trial " << trial;
        }
      });
}

class Operators : public ::testing::TestWithParam<ProtocolKind> {};

TEST_P(Operators, MaxPoolWithPaddingAndCeilMode) {
  check_private_inference(lowered(models::max_pool_pads_ceil()), GetParam());
}

TEST_P(Operators, AveragePoolWithPaddingAndCeilMode) {
  check_private_inference(lowered(models::avg_pool(3)), GetParam());  // pads, ceil, include pad
  check_private_inference(lowered(models::avg_pool(4)), GetParam());  // Pad + AveragePool
}

TEST_P(Operators, ConcatAlongChannels) {
  check_private_inference(lowered(models::concat()), GetParam());
}

TEST_P(Operators, ClipAndReLU6) {
  check_private_inference(lowered(models::clip()), GetParam());
}

TEST_P(Operators, GroupedAndDepthwiseConv) {
  check_private_inference(lowered(models::grouped()), GetParam());
}

TEST_P(Operators, BatchNormAnywhere) {
  check_private_inference(lowered(models::batch_norm()), GetParam());
}

TEST_P(Operators, AveragePoolAsALinearLayer) {
  check_private_inference(lowered(models::densenet_transition()), GetParam());
  check_private_inference(lowered(models::squeezenet_head()), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Protocols, Operators,
                         ::testing::Values(ProtocolKind::server_garbler,
                                           ProtocolKind::client_garbler),
                         test_models::ProtocolName{});

TEST(OperatorsArchitecture, RoundTripsGroupsPoolWindowsAndClipBounds) {
  for (const nn::Model& m : {models::max_pool_pads_ceil(), models::clip(), models::grouped()}) {
    const nn::LoweredModel model = lowered(m);
    const nn::LoweredModel arch = decode_architecture(encode_architecture(model));
    EXPECT_EQ(architecture_fingerprint(arch), architecture_fingerprint(model));
    ASSERT_EQ(arch.stages.size(), model.stages.size());
    for (std::size_t s = 0; s < arch.stages.size(); ++s) {
      EXPECT_EQ(arch.stages[s].nonlinear.kind, model.stages[s].nonlinear.kind);
      EXPECT_EQ(arch.stages[s].nonlinear.pool, model.stages[s].nonlinear.pool);
      EXPECT_EQ(arch.stages[s].nonlinear.clip_lo, model.stages[s].nonlinear.clip_lo);
      EXPECT_EQ(arch.stages[s].nonlinear.clip_hi, model.stages[s].nonlinear.clip_hi);
    }
    for (std::size_t i = 0; i < arch.linear_ops.size(); ++i) {
      EXPECT_EQ(arch.linear_ops[i].conv, model.linear_ops[i].conv);
    }
  }
  // A grouped conv whose groups do not divide its channels is refused.
  nn::LoweredModel bad = lowered(models::grouped());
  for (nn::LinearOp& op : bad.linear_ops) {
    if (op.conv.groups == 8) op.conv.groups = 3;
  }
  EXPECT_THROW((void)decode_architecture(encode_architecture(bad)), FormatError);
}

}  // namespace

namespace {

// --reveal label: the client's only output is the label (times 2^f), the argmax of the logits
// the fixed-point engine computes; it never sees a logit.
class RevealLabel : public ::testing::TestWithParam<ProtocolKind> {};

TEST_P(RevealLabel, ClientReceivesOnlyTheLabel) {
  const nn::LoweredModel plain = lowered(models::max_pool_pads_ceil());
  const nn::LoweredModel model = nn::reveal_label(plain);
  nn::validate(model);
  EXPECT_TRUE(nn::reveals_label(model));
  EXPECT_FALSE(nn::reveals_label(plain));
  EXPECT_THROW((void)nn::reveal_label(model), InvalidArgument);
  EXPECT_TRUE(nn::reveals_label(decode_architecture(encode_architecture(model))));
  test_session::Stores stores("pinfer-ops-test");
  InferenceServer server(model, GetParam(), stores.server, stores.registry);
  test_session::with_session(
      server, stores.client,
      {.credentials = stores.registry.register_client({}), .protocol = GetParam()},
      [&](InferenceClient& client) {
        EXPECT_TRUE(nn::reveals_label(client.architecture()));  // stated in the handshake
        for (uint64_t trial = 0; trial < 4; ++trial) {
          const FloatTensor x = test_models::random_input(model.input_shape, 20 + trial);
          const InferenceResult rep = client.infer(x);
          const RingTensor logits = nn::run_fixed_point(plain, nn::encode_input(plain, x));
          std::size_t best = 0;
          for (std::size_t i = 1; i < logits.size(); ++i) {
            if (plain.ring().to_signed(logits[i]) > plain.ring().to_signed(logits[best])) best = i;
          }
          EXPECT_EQ(rep.reveals, "label");
          EXPECT_TRUE(rep.logits.empty());
          ASSERT_EQ(rep.logits_ring.size(), 1u);  // all the client receives
          EXPECT_EQ(rep.logits_ring[0], uint64_t{best} << model.f);
          EXPECT_EQ(rep.prediction, static_cast<int>(best));
          EXPECT_EQ(rep.logits_ring,
                    nn::run_fixed_point(model, nn::encode_input(model, x)).values());
        }
      });
}

INSTANTIATE_TEST_SUITE_P(Protocols, RevealLabel,
                         ::testing::Values(ProtocolKind::server_garbler,
                                           ProtocolKind::client_garbler),
                         test_models::ProtocolName{});

}  // namespace

namespace {

// --reveal topk:K: the client's only outputs are the K best labels (each times 2^f), in the
// order the fixed-point engine ranks the logits (equal logits: lower index first).
class RevealTopK : public ::testing::TestWithParam<ProtocolKind> {};

TEST_P(RevealTopK, ClientReceivesOnlyTheKBestLabels) {
  const nn::LoweredModel plain = lowered(models::max_pool_pads_ceil());
  const std::size_t k = std::min<std::size_t>(3, plain.num_classes());
  ASSERT_GE(k, 2u);
  const nn::LoweredModel model = nn::reveal_top_k(plain, k);
  nn::validate(model);
  EXPECT_EQ(nn::revealed_labels(model), k);
  EXPECT_EQ(nn::reveals(model), "topk:" + std::to_string(k));
  EXPECT_EQ(nn::reveals(nn::reveal_top_k(plain, 1)), "label");
  EXPECT_THROW((void)nn::reveal_top_k(model, 2), InvalidArgument);
  EXPECT_THROW((void)nn::reveal_top_k(plain, plain.num_classes() + 1), InvalidArgument);
  EXPECT_THROW((void)nn::reveal_top_k(plain, 0), InvalidArgument);
  // The values of --reveal and pinfer.Server(reveal=...).
  EXPECT_EQ(nn::reveals(nn::apply_reveal(plain, "topk:" + std::to_string(k))), nn::reveals(model));
  EXPECT_EQ(nn::reveals(nn::apply_reveal(plain, "label")), "label");
  EXPECT_EQ(nn::reveals(nn::apply_reveal(plain, "logits")), "logits");
  for (const char* bad : {"topk:0", "topk:", "topk:2x", "top", "LABEL", "topk:65537"}) {
    EXPECT_FALSE(nn::parse_reveal(bad).has_value()) << bad;
    EXPECT_THROW((void)nn::apply_reveal(plain, bad), InvalidArgument) << bad;
  }
  const nn::LoweredModel decoded = decode_architecture(encode_architecture(model));
  EXPECT_EQ(nn::revealed_labels(decoded), k);
  EXPECT_EQ(architecture_fingerprint(decoded), architecture_fingerprint(model));
  test_session::Stores stores("pinfer-ops-test");
  InferenceServer server(model, GetParam(), stores.server, stores.registry);
  test_session::with_session(
      server, stores.client,
      {.credentials = stores.registry.register_client({}), .protocol = GetParam()},
      [&](InferenceClient& client) {
        EXPECT_EQ(nn::reveals(client.architecture()), nn::reveals(model));  // the handshake
        for (uint64_t trial = 0; trial < 3; ++trial) {
          const FloatTensor x = test_models::random_input(model.input_shape, 40 + trial);
          const InferenceResult rep = client.infer(x);
          const RingTensor logits = nn::run_fixed_point(plain, nn::encode_input(plain, x));
          const std::vector<std::size_t> best = nn::top_k_classes(plain.ring(), logits.span(), k);
          EXPECT_EQ(rep.reveals, "topk:" + std::to_string(k));
          EXPECT_TRUE(rep.logits.empty());
          ASSERT_EQ(rep.logits_ring.size(), k);  // all the client receives
          ASSERT_EQ(rep.labels.size(), k);
          for (std::size_t i = 0; i < k; ++i) {
            EXPECT_EQ(rep.logits_ring[i], uint64_t{best[i]} << model.f) << i;
            EXPECT_EQ(rep.labels[i], static_cast<int>(best[i])) << i;
          }
          EXPECT_EQ(rep.prediction, static_cast<int>(best[0]));
          EXPECT_EQ(rep.logits_ring,
                    nn::run_fixed_point(model, nn::encode_input(model, x)).values());
        }
      });
}

TEST(RevealTopK, EngineRanksEqualLogitsByLowerIndex) {
  const Ring ring(20);
  const std::vector<uint64_t> logits = {5, ring.from_signed(-3), 9, 5, 9, 0};
  EXPECT_EQ(nn::top_k_classes(ring, logits, 4), (std::vector<std::size_t>{2, 4, 0, 3}));
}

INSTANTIATE_TEST_SUITE_P(Protocols, RevealTopK,
                         ::testing::Values(ProtocolKind::server_garbler,
                                           ProtocolKind::client_garbler),
                         test_models::ProtocolName{});

}  // namespace
