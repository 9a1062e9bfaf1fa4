#pragma once
// A model-wide budget of NTT-form weights (LinearServerOptions::max_cached_weight_bytes caps one
// layer; this caps a model): spent layer by layer in the order the servers are built, each layer
// keeping at most min(its own cap, what is left). The protocol's server and `pinfer bench he`
// build a model's layers through it, so both keep the same weights (docs/HE.md, "Weight cache").
#include <cstddef>
#include <cstdint>
#include <span>

#include "pinfer/he/linear.hpp"

namespace pinfer::he {

class WeightCacheBudget {
 public:
  explicit WeightCacheBudget(std::size_t total_bytes) noexcept : left_(total_bytes) {}

  // Builds the next layer's server under what is left of the budget and books what it keeps.
  [[nodiscard]] LinearServer build(const Context& ctx, const LinearGeometry& g,
                                   std::span<const uint64_t> weights);

  // Bytes of weights kept by every server built so far.
  [[nodiscard]] std::size_t spent_bytes() const noexcept { return spent_; }

 private:
  std::size_t left_;
  std::size_t spent_ = 0;
};

}  // namespace pinfer::he
