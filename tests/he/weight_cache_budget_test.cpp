// WeightCacheBudget: a model-wide budget of encoded weights spent layer by layer.
#include "pinfer/he/weight_cache_budget.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "pinfer/core/prg.hpp"

namespace pinfer::he {
namespace {

LinearGeometry layer() {
  return ConvGeometry{8, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1};
}

std::vector<uint64_t> weights(const Context& ctx) {
  std::vector<uint64_t> w(linear_weight_size(layer()));
  Prg prg = Prg::from_seed(Block(7, 8));  // reproducible test weights
  prg.fill_ring(ctx.ring(), w);
  return w;
}

TEST(WeightCacheBudget, LaterLayersGetWhatIsLeftAndTheTotalStaysWithinTheBudget) {
  const Context ctx = Context::create(31);
  const std::vector<uint64_t> w = weights(ctx);
  const std::size_t one = LinearServer(ctx, layer(), w).cached_weight_bytes();
  ASSERT_GT(one, 0u);

  WeightCacheBudget budget(one + one / 2);  // room for one and a half layers
  const LinearServer first = budget.build(ctx, layer(), w);
  const LinearServer second = budget.build(ctx, layer(), w);
  const LinearServer third = budget.build(ctx, layer(), w);
  EXPECT_EQ(first.cached_weight_bytes(), one);
  EXPECT_LE(second.cached_weight_bytes(), one / 2);
  EXPECT_LE(third.cached_weight_bytes(), one / 2 - second.cached_weight_bytes());
  EXPECT_EQ(budget.spent_bytes(), first.cached_weight_bytes() + second.cached_weight_bytes() +
                                      third.cached_weight_bytes());
  EXPECT_LE(budget.spent_bytes(), one + one / 2);

  WeightCacheBudget all(3 * one);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(all.build(ctx, layer(), w).cached_weight_bytes(), one);
  EXPECT_EQ(all.spent_bytes(), 3 * one);

  WeightCacheBudget none(0);
  EXPECT_EQ(none.build(ctx, layer(), w).cached_weight_bytes(), 0u);
  EXPECT_EQ(none.spent_bytes(), 0u);
}

}  // namespace
}  // namespace pinfer::he
