// The server's memory for HE-encoded weights (ServerOptions::weight_cache_bytes): the budget
// bounds what is kept, and private inference is bit-exact whether every weight is kept, some
// are, or none (encoded again for every query).
#include <gtest/gtest.h>

#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "session_util.hpp"
#include "test_models.hpp"

using namespace pinfer;
using namespace pinfer::protocol;

namespace {

using test_session::Stores;
using test_session::with_session;

std::vector<uint64_t> private_logits(const nn::LoweredModel& model, ProtocolKind kind,
                                     std::size_t budget, const FloatTensor& x,
                                     std::size_t* cached) {
  Stores stores;
  InferenceServer server(model, kind, stores.server, stores.registry,
                         {.threads = 1, .weight_cache_bytes = budget});
  *cached = server.cached_weight_bytes();
  std::vector<uint64_t> logits;
  with_session(server, stores.client,
               {.credentials = stores.registry.register_client({}), .threads = 1},
               [&](InferenceClient& client) {
                 (void)client.precompute();
                 logits = client.infer(x, /*allow_on_demand=*/false).logits_ring;
               });
  return logits;
}

TEST(WeightCache, BudgetBoundsTheEncodedWeightsAndNeverChangesTheResult) {
  const nn::LoweredModel model = test_models::small_test_model(7);
  const FloatTensor x = test_models::random_input(model.input_shape, 3);
  const RingTensor expect = nn::run_fixed_point(model, nn::encode_input(model, x));
  std::size_t all = 0;
  EXPECT_EQ(private_logits(model, ProtocolKind::client_garbler, kDefaultWeightCacheBytes, x, &all),
            expect.values());
  ASSERT_GT(all, 0u);  // the small model fits the default budget
  for (const std::size_t budget : {std::size_t{0}, all / 2}) {
    for (const ProtocolKind kind : {ProtocolKind::server_garbler, ProtocolKind::client_garbler}) {
      std::size_t cached = 0;
      EXPECT_EQ(private_logits(model, kind, budget, x, &cached), expect.values())
          << "budget " << budget << ", " << to_string(kind);
      EXPECT_LE(cached, budget);
      if (budget == 0) {
        EXPECT_EQ(cached, 0u);
      } else {
        EXPECT_LT(cached, all);
      }
    }
  }
}

}  // namespace
