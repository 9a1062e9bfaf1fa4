#include "pinfer/sim/wireless_split.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "pinfer/sim/pi_model.hpp"
#include "pinfer/sim/sweep.hpp"

namespace pinfer::sim {

SplitSearchResult search_uplink_share(const ProtocolCosts& costs, const SystemConfig& base,
                                      double total_mbps, double rate, uint32_t runs, uint64_t seed,
                                      uint32_t threads) {
  std::map<int, double> latency_by_percent;  // share in percent -> mean latency
  const auto evaluate = [&](int percent) {
    if (latency_by_percent.count(percent)) return;
    SystemConfig cfg = base;
    apply_wireless_split(cfg, total_mbps, percent / 100.0);
    const ModelPlan plan = plan_model(costs, cfg);
    SweepOptions opt;
    opt.rates = {rate};
    opt.runs = runs;
    opt.seed = seed;
    opt.threads = threads;
    const RateSummary s = run_sweep(plan, opt).rates.front();
    // A split under which nothing completes is the worst possible.
    latency_by_percent[percent] =
        std::isnan(s.mean_latency_s) ? std::numeric_limits<double>::infinity() : s.mean_latency_s;
  };
  const auto best = [&] {
    return std::min_element(latency_by_percent.begin(), latency_by_percent.end(),
                            [](const auto& a, const auto& b) { return a.second < b.second; })
        ->first;
  };
  for (int p = 5; p <= 95; p += 5) evaluate(p);
  const int coarse = best();
  for (int p = std::max(1, coarse - 4); p <= std::min(99, coarse + 4); ++p) evaluate(p);
  const int fine = best();
  SplitSearchResult r;
  r.best_uplink_share = fine / 100.0;
  r.best_mean_latency_s = latency_by_percent[fine];
  r.total_mbps = total_mbps;
  r.rate = rate;
  for (const auto& [p, l] : latency_by_percent) r.evaluated.emplace_back(p / 100.0, l);
  return r;
}

}  // namespace pinfer::sim
