#pragma once
// Capacity planning (`pinfer simulate plan`): how many clients, each sending Poisson requests
// at a given rate, one server holds while a latency target (mean or p99, over all requests of
// all clients) is met; and, for a fleet of N clients spread evenly over identical servers, how
// many servers and how much server storage that takes (on paper: ceil(N / clients per server)).
//
// Search: adding a client adds load to the shared server (CPU, link, storage quota), so the
// latency grows with K; the search doubles K from 1 until the target fails, then bisects
// between the last K that met it and the first that did not. Every K is simulated with the same
// run seeds (client c's arrivals do not depend on K: arrivals.hpp), so the comparison between
// neighbouring K is not sampling noise. The result names both ends: K meets the target and
// K + 1 does not (or K hit the search limit).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/sweep.hpp"
#include "pinfer/sim/system_config.hpp"

namespace pinfer::sim {

enum class LatencyMetric { mean, p99 };

struct CapacityPlanOptions {
  double rate_per_client = 0;  // requests/s, > 0
  LatencyMetric metric = LatencyMetric::mean;
  double target_s = 0;  // > 0
  uint32_t runs = 3;    // runs per evaluated K
  uint64_t seed = 1;
  uint32_t threads = 0;                   // worker threads for the runs (0: all cores)
  uint32_t max_clients = 100'000;         // search limit per server
  std::optional<uint64_t> fleet_clients;  // N, for the fleet figures
};

struct CapacityPoint {
  uint32_t clients = 0;
  bool meets = false;    // stable, every run completed requests, latency <= target
  double latency_s = 0;  // the metric, over all requests (NaN: nothing completed)
  std::string reason;    // why it fails ("" when it meets)
  RateSummary summary;   // aggregate figures (per-client ones dropped)
};

struct CapacityPlan {
  uint32_t max_clients_per_server = 0;           // 0: not even one client meets the target
  bool hit_search_limit = false;                 // max_clients met the target
  std::vector<CapacityPoint> evaluated;          // in evaluation order
  std::optional<CapacityPoint> at_max;           // the point at max_clients_per_server
  std::optional<CapacityPoint> above_max;        // at max_clients_per_server + 1
  uint64_t server_quota_per_client_bytes = 0;    // at max_clients_per_server
  uint64_t server_storage_per_server_bytes = 0;  // min(total, max clients x quota)
  // Fleet (when fleet_clients was given and max_clients_per_server > 0).
  std::optional<uint64_t> fleet_clients;
  uint64_t servers = 0;
  uint64_t clients_per_server = 0;  // the most on any server when spread evenly
  uint64_t fleet_server_storage_bytes = 0;
  std::optional<CapacityPoint> fleet_point;  // simulated at clients_per_server
};

// Throws InvalidArgument for bad options (naming the field) or configuration.
[[nodiscard]] CapacityPlan plan_capacity(const ProtocolCosts& costs, const SystemConfig& config,
                                         const CapacityPlanOptions& options);

[[nodiscard]] std::string_view to_string(LatencyMetric m) noexcept;

}  // namespace pinfer::sim
