#pragma once
// A linear layer evaluated as one or two independent parts (docs/HE.md, section 3, "Row split"):
// a convolution whose output rows [0, y) and [y, out_h) are cheaper as two sub-convolutions,
// each with its own tiling, query and response. Shared by client and server; public shapes only.
#include <array>
#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

#include "pinfer/he/linear.hpp"

namespace pinfer::he::detail {

struct LinearPart {
  LinearGeometry geometry;   // the part as a layer of its own
  LinearPlan plan;           // its plan (never split)
  std::size_t in_row0 = 0;   // first row of the whole layer's input that it reads
  std::size_t out_row0 = 0;  // first row of the whole layer's output that it produces
  // Where its query and response start in the layer's query and response, and the index of its
  // first output-channel group among the layer's groups.
  std::size_t query_offset = 0, response_offset = 0, group_offset = 0;
};

// The best single (unsplit) plan of g and its weighted cost in bits (linear_plan.cpp).
[[nodiscard]] LinearPlan plan_single(const Context& ctx, const LinearGeometry& g,
                                     long double& cost_out);

// The parts of g (one unless a row split costs less), deterministic, so both parties agree.
// Memoised in the context. Throws what plan_linear throws.
[[nodiscard]] std::vector<LinearPart> plan_parts(const Context& ctx, const LinearGeometry& g);

// Memo of plan_parts per geometry (public shapes only); at most kMaxEntries are kept.
struct PlanCache {
  static constexpr std::size_t kMaxEntries = 1024;
  std::mutex mu;
  std::map<std::array<std::size_t, 13>, std::vector<LinearPart>> parts;
};

}  // namespace pinfer::he::detail
