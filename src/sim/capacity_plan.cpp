#include "pinfer/sim/capacity_plan.hpp"

#include <cmath>
#include <map>
#include <sstream>

#include "pinfer/core/error.hpp"
#include "pinfer/sim/pi_model.hpp"

namespace pinfer::sim {
namespace {

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

class Evaluator {
 public:
  Evaluator(const ProtocolCosts& costs, const SystemConfig& config,
            const CapacityPlanOptions& options)
      : costs_(costs), config_(config), options_(options) {}

  const CapacityPoint& at(uint32_t k) {
    if (auto it = cache_.find(k); it != cache_.end()) return it->second;
    CapacityPoint p;
    p.clients = k;
    SystemConfig c = config_;
    c.clients = k;
    std::optional<ModelPlan> plan;
    try {
      plan = plan_model(costs_, c);
    } catch (const InvalidArgument& e) {
      // E.g. the per-client quota can no longer hold one precompute: more clients cannot fit.
      p.reason = e.what();
      p.latency_s = std::nan("");
    }
    if (plan) {
      SweepOptions sw;
      sw.rates = {options_.rate_per_client};
      sw.runs = options_.runs;
      sw.seed = options_.seed;
      sw.threads = options_.threads;
      p.summary = run_sweep(*plan, sw).rates.front();
      p.summary.clients.clear();
      p.latency_s = options_.metric == LatencyMetric::mean ? p.summary.mean_latency_s
                                                           : p.summary.p99_latency_s;
      if (p.summary.runs_with_completions < p.summary.runs) {
        p.reason = "a run completed no request";
      } else if (!p.summary.stable) {
        p.reason = "unstable (backlog grows)";
      } else if (!(p.latency_s <= options_.target_s)) {
        p.reason = std::string(to_string(options_.metric)) + " latency " + num(p.latency_s) +
                   " s > target " + num(options_.target_s) + " s";
      } else {
        p.meets = true;
      }
    }
    order_.push_back(k);
    return cache_.emplace(k, std::move(p)).first->second;
  }

  std::vector<CapacityPoint> evaluated() const {
    std::vector<CapacityPoint> out;
    for (uint32_t k : order_) out.push_back(cache_.at(k));
    return out;
  }

 private:
  const ProtocolCosts& costs_;
  const SystemConfig& config_;
  const CapacityPlanOptions& options_;
  std::map<uint32_t, CapacityPoint> cache_;
  std::vector<uint32_t> order_;
};

}  // namespace

std::string_view to_string(LatencyMetric m) noexcept {
  return m == LatencyMetric::mean ? "mean" : "p99";
}

CapacityPlan plan_capacity(const ProtocolCosts& costs, const SystemConfig& config,
                           const CapacityPlanOptions& options) {
  if (!(options.rate_per_client > 0.0) || std::isinf(options.rate_per_client)) {
    throw InvalidArgument("rate = " + num(options.rate_per_client) +
                          " requests/s per client must be finite and > 0");
  }
  if (!(options.target_s > 0.0) || std::isinf(options.target_s)) {
    throw InvalidArgument("target = " + num(options.target_s) + " s must be finite and > 0");
  }
  if (options.runs == 0) throw InvalidArgument("runs must be >= 1");
  if (options.max_clients < 1 || options.max_clients > kMaxClients) {
    throw InvalidArgument("max_clients = " + std::to_string(options.max_clients) +
                          " must be in [1, " + std::to_string(kMaxClients) + "]");
  }
  if (options.fleet_clients && *options.fleet_clients == 0) {
    throw InvalidArgument("fleet_clients must be >= 1");
  }
  validate(config);

  Evaluator eval(costs, config, options);
  CapacityPlan out;
  uint32_t lo = 0;  // largest K known to meet the target (0: none)
  uint32_t hi = 0;  // smallest K known to fail it (0: none yet)
  for (uint32_t k = 1;; k = k > options.max_clients / 2 ? options.max_clients : 2 * k) {
    if (eval.at(k).meets) {
      lo = k;
      if (k == options.max_clients) break;
    } else {
      hi = k;
      break;
    }
  }
  if (hi != 0) {
    while (hi - lo > 1) {
      const uint32_t mid = lo + (hi - lo) / 2;
      if (eval.at(mid).meets) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
  }
  out.max_clients_per_server = lo;
  out.hit_search_limit = hi == 0;
  if (lo > 0) out.at_max = eval.at(lo);
  if (hi != 0) out.above_max = eval.at(hi);
  if (lo > 0) {
    out.server_quota_per_client_bytes = config.server_quota_per_client_bytes != 0
                                            ? config.server_quota_per_client_bytes
                                            : config.server_storage_bytes / lo;
    out.server_storage_per_server_bytes =
        std::min<uint64_t>(config.server_storage_bytes, out.server_quota_per_client_bytes * lo);
    if (options.fleet_clients) {
      const uint64_t n = *options.fleet_clients;
      out.fleet_clients = n;
      out.servers = (n + lo - 1) / lo;
      out.clients_per_server = (n + out.servers - 1) / out.servers;
      out.fleet_server_storage_bytes = out.servers * out.server_storage_per_server_bytes;
      out.fleet_point = eval.at(static_cast<uint32_t>(out.clients_per_server));
    }
  }
  out.evaluated = eval.evaluated();
  return out;
}

}  // namespace pinfer::sim
