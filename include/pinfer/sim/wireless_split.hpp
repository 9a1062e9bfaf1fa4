#pragma once
// Wireless slot allocation: a total wireless bandwidth shared between uplink and downlink. The
// search finds the uplink share minimising mean latency at a given arrival rate: a grid over
// shares 0.05..0.95 in steps of 0.05, then steps of 0.01 around the best grid point. Every
// point uses the same seeds (common random numbers), so differences are not sampling noise.
#include <cstdint>
#include <utility>
#include <vector>

#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/system_config.hpp"

namespace pinfer::sim {

struct SplitSearchResult {
  double best_uplink_share = 0;
  double best_mean_latency_s = 0;
  double total_mbps = 0;
  double rate = 0;
  std::vector<std::pair<double, double>> evaluated;  // (uplink share, mean latency s), by share
};

// Throws InvalidArgument for a bad total, rate or run count.
[[nodiscard]] SplitSearchResult search_uplink_share(const ProtocolCosts& costs,
                                                    const SystemConfig& base, double total_mbps,
                                                    double rate, uint32_t runs, uint64_t seed,
                                                    uint32_t threads = 0);

}  // namespace pinfer::sim
