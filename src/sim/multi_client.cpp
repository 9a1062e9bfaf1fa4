#include "pinfer/sim/multi_client.hpp"

#include "pinfer/sim/report.hpp"

namespace pinfer::sim {

MultiClientResult simulate_clients(const ProtocolCosts& costs, const SystemConfig& config,
                                   double rate_per_client, uint64_t seed,
                                   const RunOptions& options) {
  MultiClientResult out;
  out.plan = plan_model(costs, config);
  RunOptions o = options;
  o.keep_trace = true;
  out.run = simulate_run(out.plan, rate_per_client, seed, o);
  out.requests = std::move(out.run.trace);
  out.run.trace.clear();
  out.aggregate = summarize_runs(rate_per_client, out.plan.horizon_s, out.plan.clients, {&out.run});
  out.aggregate.events = out.run.events;
  out.clients.reserve(out.run.clients.size());
  for (const RunStats& c : out.run.clients) {
    out.clients.push_back(summarize_runs(rate_per_client, out.plan.horizon_s, 1, {&c}));
  }
  if (out.plan.clients > 1) out.aggregate.clients = out.clients;
  return out;
}

nlohmann::json rate_summary_json(const RateSummary& summary) {
  return to_json(summary);
}

nlohmann::json to_json(const RequestRecord& r) {
  return {{"client", r.client},
          {"arrival_s", r.arrival_s},
          {"start_s", r.start_s},
          {"offline_wait_s", r.offline_wait_s},
          {"end_s", r.end_s},
          {"latency_s", r.end_s - r.arrival_s},
          {"queue_s", r.start_s - r.arrival_s},
          {"online_s", r.end_s - r.start_s - r.offline_wait_s},
          {"precompute_id", r.precompute_id}};
}

}  // namespace pinfer::sim
