#pragma once
// The private-inference system model: K clients (default one) and one server; per client,
// Poisson requests queued FIFO, a precompute process filling its store and its quota of the
// server store, and a single online process serving its requests one at a time
// (the published artifact of Garimella et al., ASPLOS 2023, as docs/SIMULATOR.md states it,
// reproduced exactly in SimMode::independent with one client). Clients share the server's CPU,
// storage and link (docs/SIMULATOR.md, "Many clients").
//
// plan_model() turns a cost profile and a system configuration into per-step durations and
// resource demands once; simulate_run() runs one seeded 24 h (configurable) simulation of it.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/system_config.hpp"

namespace pinfer::sim {

enum class ResourceId : uint8_t { client_cpu, server_cpu, uplink, downlink };

struct PlannedStep {
  std::string label;
  Category category = Category::other;
  ResourceId resource = ResourceId::client_cpu;
  double seconds = 0.0;            // duration when it has its resource to itself
  double work = 0.0;               // contended mode: core-seconds or bytes
  double max_rate = 0.0;           // contended mode: cores (threads) or link bytes/s
  bool overlaps_previous = false;  // starts with the previous step (CostStep::overlaps_previous)
  bool follows_previous = false;   // same group, starts when the previous step ends
};

struct PhasePlan {
  std::vector<PlannedStep> steps;
  // Sum over groups of overlapping steps of the longest lane's duration (a lane: a step and
  // the steps that follow it), in profile order (without overlaps: the sum of step durations,
  // the published model).
  double seconds = 0.0;
};

struct ModelPlan {
  PhasePlan offline;
  PhasePlan online;
  uint64_t client_bytes_per_precompute = 0;
  uint64_t server_bytes_per_precompute = 0;
  uint64_t client_capacity_bytes = 0;
  uint64_t server_capacity_bytes = 0;
  // Published condition: one precompute is smaller than the client store. Otherwise there is
  // no precompute process and every request runs offline then online.
  bool precompute_fits = false;
  double client_cores = 0, server_cores = 0;  // contended mode capacities
  double uplink_bytes_per_s = 0, downlink_bytes_per_s = 0;
  SimMode mode = SimMode::independent;
  PrecomputePolicy policy = PrecomputePolicy::poll;
  double poll_interval_s = 1.0;
  double horizon_s = 86400.0;
  // Many clients: server_capacity_bytes is the server's total; each client's precomputes fill
  // its quota. The total binds only when the quotas overcommit it.
  uint32_t clients = 1;
  uint64_t server_quota_bytes = 0;
  bool server_total_binds = false;
  // Contended mode: the server's links (0: not modelled) and the one shared compute pool
  // (0: each party has its own cores).
  double server_uplink_bytes_per_s = 0, server_downlink_bytes_per_s = 0;
  double shared_cores = 0;
  bool drain = false;
};

// Duration of one step alone on its resource under `config` (thread scaling, LPHE, speed-up
// and device factors, link rates). Throws InvalidArgument for an impossible combination.
[[nodiscard]] double step_seconds(const CostStep& step, const SystemConfig& config);

// Validates `config` and resolves every step. Throws InvalidArgument naming the bad field.
[[nodiscard]] ModelPlan plan_model(const ProtocolCosts& costs, const SystemConfig& config);

struct RequestRecord {
  uint32_t client = 0;
  double arrival_s = 0;
  double start_s = 0;         // service start (left the queue)
  double offline_wait_s = 0;  // offline work on the critical path (waiting for a precompute,
                              // or the whole offline phase when nothing can be stored)
  double end_s = 0;
  int64_t precompute_id = -1;  // which stored precompute it consumed (-1: none); ids are
                               // unique across the clients of a run
};

struct RunOptions {
  bool keep_trace = false;  // fill RunResult::trace and produced_ids
};

// Figures of one run, for one client or aggregated over all requests of all clients.
struct RunStats {
  uint64_t arrivals = 0;
  uint64_t served = 0;             // completed by the horizon (with drain: by the end)
  uint64_t backlog_at_end = 0;     // still queued (not started) at the horizon, as published
  uint64_t in_system_at_half = 0;  // arrived but not completed at horizon / 2
  uint64_t in_system_at_end = 0;   // arrived but not completed at the horizon
  // Means over completed requests (NaN when none completed).
  double mean_latency_s = 0, p50_latency_s = 0, p95_latency_s = 0, p99_latency_s = 0;
  double mean_queue_s = 0, mean_offline_wait_s = 0, mean_online_s = 0;
  uint64_t precomputes_made = 0;
  uint64_t precomputes_used = 0;
  uint64_t client_peak_bytes = 0;  // aggregate: the largest over clients
  uint64_t server_peak_bytes = 0;  // of the client's quota; aggregate: the largest over clients
};

struct RunResult : RunStats {
  uint64_t events = 0;
  double end_s = 0;  // when the run stopped: the horizon, or with drain the last completion
  uint64_t server_total_peak_bytes = 0;  // peak of the server store over all clients
  std::vector<RunStats> clients;         // per client (one entry per client, also for K = 1)
  std::vector<RequestRecord> trace;      // completed requests, in completion order
  std::vector<int64_t> produced_ids;     // precompute ids in production order ...
  std::vector<uint32_t> produced_by;     // ... and the client that made each ...
  std::vector<double> produced_phase_s;  // ... and how long its offline phase took (contended)
};

// One simulation from empty stores for plan.horizon_s with Poisson(rate) arrivals at each of
// plan.clients clients (client c's arrivals: arrivals.hpp). Deterministic in (plan, rate,
// seed). Throws InvalidArgument if rate <= 0 or the expected number of arrivals exceeds 5e7.
[[nodiscard]] RunResult simulate_run(const ModelPlan& plan, double rate, uint64_t seed,
                                     const RunOptions& options = {});

// The figures of a list of completed requests, computed as a run computes them (means and
// percentiles over the requests; served = their number); `arrivals` is how many arrived. For
// requests measured outside the simulator (`pinfer bench arrivals`).
[[nodiscard]] RunStats request_stats(std::span<const RequestRecord> requests, uint64_t arrivals);

// Percentile p in [0, 1] of `values` with linear interpolation between order statistics
// (numpy's default). Sorts `values`. NaN if empty.
[[nodiscard]] double percentile_inplace(std::vector<double>& values, double p);

}  // namespace pinfer::sim
