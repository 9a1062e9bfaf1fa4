#pragma once
// Library entry point for many clients sharing one server, one seeded run, with every request
// recorded: what `pinfer bench arrivals --simulate` compares against a real load run.
//
//   SystemConfig c;  c.clients = 4;  c.mode = SimMode::contended;  c.drain = true;  ...
//   const MultiClientResult r = simulate_clients(costs, c, 0.01, seed);
//   r.requests[i].client / arrival_s / start_s / offline_wait_s / end_s
//   rate_summary_json(r.aggregate)  -> one entry of `rates` in `pinfer simulate --json`
//
// Client c's arrivals are poisson_arrival_times(rate_per_client, seed, c, horizon) (arrivals.hpp),
// so a real run replaying them sees the same requests. The model is the one of simulate_run
// (pi_model.hpp); with c.clients == 1 the figures are exactly simulate_run's.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/pi_model.hpp"
#include "pinfer/sim/sweep.hpp"
#include "pinfer/sim/system_config.hpp"

namespace pinfer::sim {

struct MultiClientResult {
  ModelPlan plan;                       // resolved configuration (phase durations, capacities)
  RunResult run;                        // raw figures: aggregate, run.clients, counters
  RateSummary aggregate;                // over all requests of all clients (runs = 1)
  std::vector<RateSummary> clients;     // one per client
  std::vector<RequestRecord> requests;  // every completed request, in completion order
};

// One run with seed `seed` (the run seed itself, not a sweep seed). options.keep_trace is
// implied. Throws InvalidArgument for a bad configuration or rate (naming the field).
[[nodiscard]] MultiClientResult simulate_clients(const ProtocolCosts& costs,
                                                 const SystemConfig& config, double rate_per_client,
                                                 uint64_t seed, const RunOptions& options = {});

// The JSON object of one entry of `rates` in `pinfer simulate --json` (rate, runs,
// mean_latency_s, p50/p95/p99_latency_s, mean_queue_s, mean_offline_wait_s, mean_online_s,
// arrivals, served, backlog_at_end, backlog_growth, stable; with several clients also
// `clients` and `aggregate_rate`). Same as to_json(const RateSummary&) in report.hpp.
[[nodiscard]] nlohmann::json rate_summary_json(const RateSummary& summary);

// One request as JSON: client, arrival_s, start_s, offline_wait_s, end_s, latency_s,
// queue_s, online_s, precompute_id.
[[nodiscard]] nlohmann::json to_json(const RequestRecord& request);

}  // namespace pinfer::sim
