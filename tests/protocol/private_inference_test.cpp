// End-to-end private inference of both protocols, both roles in one process over the in-memory
// channel: logits bit-exact with the fixed-point engine, stores consumed once, clean refusals.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/protocol/architecture.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "session_util.hpp"
#include "test_models.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
using namespace pinfer::store;

namespace {

using test_session::Stores;
using test_session::with_session;

class PrivateInference : public ::testing::TestWithParam<ProtocolKind> {};

TEST_P(PrivateInference, LogitsAreBitExactWithFixedPointEngine) {
  const nn::LoweredModel model = test_models::small_test_model(1);
  Stores stores;
  InferenceServer server(model, GetParam(), stores.server, stores.registry);
  with_session(server, stores.client,
               {.credentials = stores.registry.register_client({}), .protocol = GetParam()},
               [&](InferenceClient& client) {
                 for (uint64_t trial = 0; trial < 3; ++trial) {
                   const FloatTensor x = test_models::random_input(model.input_shape, trial);
                   const CostReport pre = client.precompute();
                   EXPECT_GT(pre.offline.upload_bytes, 0u);
                   const InferenceResult rep = client.infer(x, /*allow_on_demand=*/false);
                   const RingTensor expect = nn::run_fixed_point(model, nn::encode_input(model, x));
                   ASSERT_EQ(rep.logits_ring, expect.values()) << "trial " << trial;
                   EXPECT_FALSE(rep.cost.offline_on_demand);
                   EXPECT_EQ(rep.cost.precompute_id, pre.precompute_id);
                 }
               });
  EXPECT_EQ(stores.client.used_bytes(), 0u);
  EXPECT_EQ(stores.server.used_bytes(), 0u);
}

TEST_P(PrivateInference, RunsOfflineOnDemandWhenStoreIsEmpty) {
  const nn::LoweredModel model = test_models::small_test_model(2);
  Stores stores;
  InferenceServer server(model, GetParam(), stores.server, stores.registry);
  with_session(server, stores.client, {.credentials = stores.registry.register_client({})},
               [&](InferenceClient& client) {
                 const FloatTensor x = test_models::random_input(model.input_shape, 7);
                 EXPECT_THROW((void)client.infer(x, false), StoreError);
                 const InferenceResult rep = client.infer(x);
                 EXPECT_TRUE(rep.cost.offline_on_demand);
                 EXPECT_EQ(rep.logits_ring,
                           nn::run_fixed_point(model, nn::encode_input(model, x)).values());
               });
}

TEST_P(PrivateInference, ClientStoresOnlyConstantStateForClientGarbler) {
  const nn::LoweredModel model = test_models::small_test_model(3);
  Stores stores;
  InferenceServer server(model, GetParam(), stores.server, stores.registry);
  with_session(server, stores.client, {.credentials = stores.registry.register_client({})},
               [&](InferenceClient& client) {
                 const CostReport pre = client.precompute();
                 if (GetParam() == ProtocolKind::client_garbler) {
                   EXPECT_LT(pre.client_storage_bytes, 1024u);
                   EXPECT_GT(pre.server_storage_bytes, pre.relus * 2000);
                 } else {
                   EXPECT_GT(pre.client_storage_bytes, pre.relus * 2000);
                   EXPECT_LT(pre.server_storage_bytes, pre.relus * 64);
                 }
               });
}

TEST_P(PrivateInference, PrecomputeIsNeverUsedTwice) {
  const nn::LoweredModel model = test_models::small_test_model(4);
  Stores stores;
  InferenceServer server(model, GetParam(), stores.server, stores.registry);
  std::string id;
  const ClientCredentials dave = stores.registry.register_client({});
  with_session(server, stores.client, {.credentials = dave.clone()}, [&](InferenceClient& client) {
    id = client.precompute().precompute_id;
    (void)client.infer(test_models::random_input(model.input_shape, 1), false);
  });
  // The server refuses the same id again even if a client replays it.
  EXPECT_THROW((void)stores.server.take(dave.client_id, id), StoreError);
  EXPECT_EQ(stores.client.used_bytes(), 0u);
  // The client removes a used precompute's files after the result (on a thread of its own,
  // joined when the client goes): nothing is left of it on disk.
  const std::filesystem::path consumed = stores.dir / "client" / "consumed";
  EXPECT_TRUE(!std::filesystem::exists(consumed) || std::filesystem::is_empty(consumed));
}

TEST_P(PrivateInference, PrecomputeRefusedByServerIsSkippedNotRetried) {
  const nn::LoweredModel model = test_models::small_test_model(8);
  Stores stores;
  InferenceServer server(model, GetParam(), stores.server, stores.registry);
  const ClientCredentials hank = stores.registry.register_client({});
  with_session(server, stores.client, {.credentials = hank.clone()}, [&](InferenceClient& client) {
    const std::string first = client.precompute().precompute_id;
    const std::string second = client.precompute().precompute_id;
    ASSERT_TRUE(stores.server.remove(hank.client_id, first));  // e.g. discarded as damaged
    const FloatTensor x = test_models::random_input(model.input_shape, 5);
    const InferenceResult rep = client.infer(x, false);
    EXPECT_EQ(rep.cost.precompute_id, second);
    EXPECT_EQ(rep.logits_ring, nn::run_fixed_point(model, nn::encode_input(model, x)).values());
    EXPECT_EQ(client.stored_precomputes(), 0u);
  });
}

TEST_P(PrivateInference, FullServerStoreRefusesCleanlyAndSessionContinues) {
  const nn::LoweredModel model = test_models::small_test_model(5);
  Stores stores;
  const fs::path tiny_dir = stores.dir / "tiny";
  PrecomputeStore tiny(tiny_dir, {.capacity_bytes = 1000});
  InferenceServer server(model, GetParam(), tiny, stores.registry);
  with_session(server, stores.client, {.credentials = stores.registry.register_client({})},
               [&](InferenceClient& client) {
                 // The server's refusal arrives typed: a StoreError with the store reason.
                 try {
                   (void)client.precompute();
                   ADD_FAILURE() << "the full store accepted a precompute";
                 } catch (const StoreError& e) {
                   EXPECT_EQ(e.reason(), ErrorReason::store);
                   EXPECT_NE(std::string(e.what()).find("store full"), std::string::npos)
                       << e.what();
                 }
                 EXPECT_EQ(client.stored_precomputes(), 0u);
               });
  EXPECT_EQ(stores.client.used_bytes(), 0u);
  EXPECT_EQ(tiny.used_bytes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Protocols, PrivateInference,
                         ::testing::Values(ProtocolKind::server_garbler,
                                           ProtocolKind::client_garbler),
                         test_models::ProtocolName());

TEST(PrivateInferenceSession, ProtocolMismatchIsAClearError) {
  const nn::LoweredModel model = test_models::small_test_model(6);
  Stores stores;
  InferenceServer server(model, ProtocolKind::server_garbler, stores.server, stores.registry);
  try {
    with_session(server, stores.client,
                 {.credentials = stores.registry.register_client({}),
                  .protocol = ProtocolKind::client_garbler},
                 [](InferenceClient&) {});
    FAIL() << "expected a protocol mismatch";
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("protocol mismatch"), std::string::npos) << e.what();
  }
}

TEST(PrivateInferenceSession, ArchitectureRoundTripsWithoutWeights) {
  const nn::LoweredModel model = test_models::small_test_model(7);
  const nn::LoweredModel arch = decode_architecture(encode_architecture(model));
  EXPECT_EQ(architecture_fingerprint(arch), architecture_fingerprint(model));
  for (const auto& op : arch.linear_ops) EXPECT_EQ(op.weight.size(), 0u);
  auto bytes = encode_architecture(model);
  bytes.resize(bytes.size() / 2);
  EXPECT_THROW((void)decode_architecture(bytes), FormatError);
}

// Hostile-input review (docs/perf/fuzz.md): each activation was capped, their sum was not, so an
// architecture of 1025 activations of 2^26 elements passed the decoder.
TEST(PrivateInferenceSession, ArchitectureWithTooManyActivationElementsIsRefused) {
  nn::LoweredModel model = test_models::small_test_model(7);
  model.input_shape = Shape{1, 64, 1024, 1024};  // 2^26 elements, the per-activation cap
  model.activation_shapes.assign(5, model.input_shape);
  try {
    (void)decode_architecture(encode_architecture(model));
    ADD_FAILURE() << "no exception";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("activations total more than 268435456"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace

namespace {
TEST(PrivateInferenceRingWidths, OddRingWidthsAreBitExact) {
  for (unsigned l : {25u, 37u}) {
    for (auto kind : {ProtocolKind::server_garbler, ProtocolKind::client_garbler}) {
      const nn::LoweredModel model = test_models::small_test_model(11, l, 8);
      Stores stores;
      InferenceServer server(model, kind, stores.server, stores.registry);
      with_session(server, stores.client, {.credentials = stores.registry.register_client({})},
                   [&](InferenceClient& client) {
                     const FloatTensor x = test_models::random_input(model.input_shape, 3);
                     const InferenceResult rep = client.infer(x);
                     EXPECT_EQ(rep.logits_ring,
                               nn::run_fixed_point(model, nn::encode_input(model, x)).values())
                         << "l = " << l << " " << to_string(kind);
                   });
    }
  }
}
}  // namespace
