#include "pinfer/he/weight_cache_budget.hpp"

#include <algorithm>

namespace pinfer::he {

LinearServer WeightCacheBudget::build(const Context& ctx, const LinearGeometry& g,
                                      std::span<const uint64_t> weights) {
  LinearServerOptions options;
  options.max_cached_weight_bytes = std::min(options.max_cached_weight_bytes, left_);
  LinearServer server(ctx, g, weights, options);
  const std::size_t kept = server.cached_weight_bytes();
  left_ -= std::min(kept, left_);
  spent_ += kept;
  return server;
}

}  // namespace pinfer::he
