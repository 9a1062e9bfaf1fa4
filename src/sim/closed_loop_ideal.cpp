#include "pinfer/sim/closed_loop_ideal.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <tuple>

#include "pinfer/core/error.hpp"

namespace pinfer::sim {

std::vector<double> closed_loop_fifo_latencies(const std::vector<std::vector<double>>& service,
                                               std::size_t servers) {
  if (servers == 0) throw InvalidArgument("closed loop ideal: servers must be positive");
  for (const auto& per_client : service) {
    for (const double s : per_client) {
      if (!std::isfinite(s) || s < 0) {
        throw InvalidArgument("closed loop ideal: service time " + std::to_string(s) +
                              " is negative or not finite");
      }
    }
  }
  using Arrival = std::tuple<double, std::size_t, std::size_t>;  // time, client, request
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>> arrivals;
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (std::size_t m = 0; m < servers; ++m) free_at.push(0.0);
  for (std::size_t c = 0; c < service.size(); ++c) {
    if (!service[c].empty()) arrivals.emplace(0.0, c, 0);
  }
  std::vector<double> latencies;
  while (!arrivals.empty()) {
    const auto [at, c, k] = arrivals.top();
    arrivals.pop();
    const double start = std::max(at, free_at.top());
    free_at.pop();
    const double finish = start + service[c][k];
    free_at.push(finish);
    latencies.push_back(finish - at);
    if (k + 1 < service[c].size()) arrivals.emplace(finish, c, k + 1);
  }
  return latencies;
}

}  // namespace pinfer::sim
