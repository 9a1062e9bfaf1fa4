// Row split and the plan cache (docs/HE.md, section 3): a linear layer as one or two parts.
#include "he/linear_parts.hpp"

#include <algorithm>

#include "he/context_impl.hpp"
#include "pinfer/he/linear.hpp"

namespace pinfer::he {
namespace {

std::size_t ceil_div(std::size_t a, std::size_t b) {
  return (a + b - 1) / b;
}

uint64_t fnv(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xFF;
    h *= 0x100000001B3ull;
  }
  return h;
}

// The sub-convolution producing output rows [row0, row0 + rows) of cv, as a layer of its own
// reading input rows [in_row0, in_row0 + its in_h) (padding rows kept only where they were).
ConvGeometry row_part(const ConvGeometry& cv, std::size_t row0, std::size_t rows,
                      std::size_t& in_row0) {
  const std::size_t first = row0 * cv.stride_h;                            // padded coordinates
  const std::size_t last = (row0 + rows - 1) * cv.stride_h + cv.kernel_h;  // one past
  const std::size_t lo = std::max(first, cv.pad_top), hi = std::min(last, cv.pad_top + cv.in_h);
  ConvGeometry part = cv;
  in_row0 = lo - cv.pad_top;
  part.in_h = hi - lo;
  part.pad_top = lo - first;
  part.pad_bottom = last - hi;
  return part;
}

}  // namespace

namespace detail {

namespace {

std::array<std::size_t, 13> cache_key(const LinearGeometry& g) {
  if (const auto* fc = std::get_if<FcGeometry>(&g)) {
    return {0, fc->in_features, fc->out_features, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  }
  const auto& cv = std::get<ConvGeometry>(g);
  return {1,           cv.in_channels, cv.in_h,     cv.in_w,     cv.out_channels,
          cv.kernel_h, cv.kernel_w,    cv.stride_h, cv.stride_w, cv.pad_top,
          cv.pad_left, cv.pad_bottom,  cv.pad_right};
}

std::vector<LinearPart> plan_parts_uncached(const Context& ctx, const LinearGeometry& g);

}  // namespace

std::vector<LinearPart> plan_parts(const Context& ctx, const LinearGeometry& g) {
  PlanCache& cache = *ctx.impl().plans;
  const auto key = cache_key(g);
  {
    const std::lock_guard lock(cache.mu);
    const auto it = cache.parts.find(key);
    if (it != cache.parts.end()) return it->second;
  }
  std::vector<LinearPart> parts = plan_parts_uncached(ctx, g);  // throws on a bad geometry
  const std::lock_guard lock(cache.mu);
  if (cache.parts.size() < PlanCache::kMaxEntries) cache.parts.emplace(key, parts);
  return parts;
}

namespace {

std::vector<LinearPart> plan_parts_uncached(const Context& ctx, const LinearGeometry& g) {
  long double best_cost = 0;
  std::vector<LinearPart> parts(1);
  parts[0].geometry = g;
  parts[0].plan = plan_single(ctx, g, best_cost);
  const auto* cv = std::get_if<ConvGeometry>(&g);
  // Row split (docs/HE.md, section 3): a top part of output rows [0, y) and a bottom part
  // [y, out_h), each with its own tiling. Candidates y: the tallest whole-width top block whose
  // input block still fits m = 2..4 times in N (so channels can be stacked), which the uniform
  // blocks of a single plan cannot express when the halo pushes the block just past N / m.
  if (cv != nullptr && cv->out_h() >= 2) {
    const std::size_t n = ctx.n();
    const std::size_t oh = cv->out_h();
    const std::size_t kh = ceil_div(cv->kernel_h, cv->stride_h);
    const std::size_t ibw = cv->out_w() + ceil_div(cv->kernel_w, cv->stride_w) - 1;
    std::vector<std::size_t> candidates;
    for (std::size_t m = 2; m <= 4; ++m) {
      const std::size_t ibh = n / (m * ibw);
      if (ibh < kh) continue;
      const std::size_t y = ibh - kh + 1;
      if (y > 0 && y < oh &&
          std::find(candidates.begin(), candidates.end(), y) == candidates.end()) {
        candidates.push_back(y);
      }
    }
    for (const std::size_t y : candidates) {
      std::size_t in0_top = 0, in0_bottom = 0;
      const ConvGeometry top = row_part(*cv, 0, y, in0_top);
      const ConvGeometry bottom = row_part(*cv, y, oh - y, in0_bottom);
      if (top.in_h == 0 || bottom.in_h == 0) continue;  // a part reading only padding
      long double cost_top = 0, cost_bottom = 0;
      LinearPlan plan_top = plan_single(ctx, top, cost_top);
      LinearPlan plan_bottom = plan_single(ctx, bottom, cost_bottom);
      if (cost_top + cost_bottom < best_cost) {
        best_cost = cost_top + cost_bottom;
        parts.assign(2, LinearPart{});
        parts[0] = LinearPart{top, std::move(plan_top), in0_top, 0};
        parts[1] = LinearPart{bottom, std::move(plan_bottom), in0_bottom, y};
      }
    }
  }
  std::size_t q = 0, r = 0, gr = 0;
  for (LinearPart& part : parts) {
    part.query_offset = q;
    part.response_offset = r;
    part.group_offset = gr;
    q += part.plan.query_bytes;
    r += part.plan.response_bytes;
    gr += part.plan.n_groups;
  }
  return parts;
}

}  // namespace
}  // namespace detail

LinearPlan plan_linear(const Context& ctx, const LinearGeometry& g) {
  const std::vector<detail::LinearPart> parts = detail::plan_parts(ctx, g);
  if (parts.size() == 1) return parts[0].plan;
  // A split layer: the first part's tiling and parameters, totals over both parts.
  LinearPlan p = parts[0].plan;
  p.out_h = std::get<ConvGeometry>(g).out_h();
  p.height = p.out_h + p.kernel_h - 1;
  p.split_row = parts[1].out_row0;
  p.n_groups = p.input_cts = p.output_cts = p.products = p.query_bytes = p.response_bytes = 0;
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (const detail::LinearPart& part : parts) {
    p.n_groups += part.plan.n_groups;
    p.input_cts += part.plan.input_cts;
    p.output_cts += part.plan.output_cts;
    p.products += part.plan.products;
    p.query_bytes += part.plan.query_bytes;
    p.response_bytes += part.plan.response_bytes;
    p.weight_terms = std::max(p.weight_terms, part.plan.weight_terms);
    h = fnv(h, part.plan.fingerprint);
  }
  p.fingerprint = fnv(h, p.split_row);
  return p;
}

}  // namespace pinfer::he