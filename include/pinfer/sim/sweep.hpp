#pragma once
// Sweeps over arrival rates with independent runs per rate, run in parallel on std::threads.
//
// Reported figures per rate are means over runs of per-run means (over completed requests),
// as the published simulator reports them; percentiles are likewise means of per-run
// percentiles. Run r of rate index i uses seed mix_seed(seed, i * 2^20 + r), whatever the
// thread count, so a sweep is reproducible, and two systems swept with the same seed see the
// same arrival sequences (common random numbers make their comparison less noisy).
#include <cstdint>
#include <optional>
#include <vector>

#include "pinfer/sim/pi_model.hpp"

namespace pinfer::sim {

struct SweepOptions {
  std::vector<double> rates;  // requests/s, each > 0
  uint32_t runs = 30;
  uint64_t seed = 1;
  uint32_t threads = 0;  // 0: std::thread::hardware_concurrency()
};

struct RateSummary {
  double rate = 0;
  uint32_t runs = 0;
  uint32_t runs_with_completions = 0;  // latency means are over these runs only
  double mean_latency_s = 0, p50_latency_s = 0, p95_latency_s = 0, p99_latency_s = 0;
  double mean_queue_s = 0, mean_offline_wait_s = 0, mean_online_s = 0;
  double arrivals = 0;        // mean per run
  double served = 0;          // mean per run
  double backlog_at_end = 0;  // mean per run: queued, not started, at the horizon
  double backlog_growth = 0;  // mean per run: requests in system at the end minus at half time
  // Stable when the backlog does not grow over the second half of the horizon by more than
  // 1 + 5% of the arrivals expected in it (an unstable queue grows linearly, by
  // (rate - service rate) * horizon / 2).
  bool stable = true;
  uint64_t events = 0;  // total over runs
  // Many clients (plan.clients > 1): `rate` is per client, the figures above are over all
  // requests of all clients, and `clients` holds each client's own figures (empty for one).
  uint32_t client_count = 1;
  std::vector<RateSummary> clients;
};

// Figures of `runs` (one entry per run) at per-client `rate` over `horizon_s`, expecting
// `clients` clients' arrivals (stability threshold): means over runs of per-run means.
[[nodiscard]] RateSummary summarize_runs(double rate, double horizon_s, uint32_t clients,
                                         const std::vector<const RunStats*>& runs);

struct SweepResult {
  std::vector<RateSummary> rates;
  // Highest swept rate such that it and every lower swept rate are stable.
  std::optional<double> highest_stable_rate;
};

// Throws InvalidArgument for empty rates, runs == 0 or a bad rate.
[[nodiscard]] SweepResult run_sweep(const ModelPlan& plan, const SweepOptions& options);

}  // namespace pinfer::sim
