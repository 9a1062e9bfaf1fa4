#include "pinfer/sim/report.hpp"

#include <cmath>
#include <cstdio>

namespace pinfer::sim {
namespace {

nlohmann::json num(double v) {
  if (std::isnan(v) || std::isinf(v)) return nullptr;
  return v;
}

std::string csv_num(double v) {
  if (std::isnan(v) || std::isinf(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

std::string csv_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string_view resource_name(ResourceId r) {
  switch (r) {
    case ResourceId::client_cpu:
      return "client_cpu";
    case ResourceId::server_cpu:
      return "server_cpu";
    case ResourceId::uplink:
      return "uplink";
    case ResourceId::downlink:
      return "downlink";
  }
  return "?";
}

nlohmann::json phase_json(const PhasePlan& phase) {
  nlohmann::json steps = nlohmann::json::array();
  for (const PlannedStep& s : phase.steps) {
    steps.push_back({{"label", s.label},
                     {"resource", resource_name(s.resource)},
                     {"category", to_string(s.category)},
                     {"seconds", s.seconds}});
  }
  return {{"seconds", phase.seconds}, {"steps", std::move(steps)}};
}

}  // namespace

nlohmann::json to_json(const SystemConfig& c) {
  return {{"protocol", c.protocol},
          {"client_storage_bytes", c.client_storage_bytes},
          {"server_storage_bytes", c.server_storage_bytes},
          {"uplink_mbps", c.uplink_mbps},
          {"downlink_mbps", c.downlink_mbps},
          {"client_threads", c.client_threads},
          {"server_gc_threads", c.server_gc_threads},
          {"server_he_threads", c.server_he_threads},
          {"client_cores", c.client_cores},
          {"server_cores", c.server_cores},
          {"he_model", to_string(c.he_model)},
          {"he_speedup", c.he_speedup},
          {"gc_speedup", c.gc_speedup},
          {"bandwidth_speedup", c.bandwidth_speedup},
          {"client_device_factor", c.client_device_factor},
          {"mode", to_string(c.mode)},
          {"policy", to_string(c.policy)},
          {"poll_interval_s", c.poll_interval_s},
          {"sim_hours", c.sim_hours},
          {"clients", c.clients},
          {"server_quota_per_client_bytes", c.server_quota_per_client_bytes},
          {"server_uplink_mbps", c.server_uplink_mbps},
          {"server_downlink_mbps", c.server_downlink_mbps},
          {"shared_cores", c.shared_cores},
          {"drain", c.drain}};
}

nlohmann::json plan_to_json(const ModelPlan& p) {
  nlohmann::json j = {{"offline_phase_s", p.offline.seconds},
                      {"online_phase_s", p.online.seconds},
                      {"client_bytes_per_precompute", p.client_bytes_per_precompute},
                      {"server_bytes_per_precompute", p.server_bytes_per_precompute},
                      {"precompute_fits", p.precompute_fits},
                      {"clients", p.clients},
                      {"server_quota_bytes", p.server_quota_bytes},
                      {"offline", phase_json(p.offline)},
                      {"online", phase_json(p.online)}};
  if (p.client_bytes_per_precompute > 0 && p.server_bytes_per_precompute > 0) {
    // Most precomputes ever stored under the strict-room rule: n with free space > one more.
    const auto fit = [](uint64_t cap, uint64_t each) {
      return cap > each ? (cap - 1) / each : uint64_t{0};
    };
    j["max_stored_precomputes"] =
        std::min(fit(p.client_capacity_bytes, p.client_bytes_per_precompute),
                 fit(p.server_quota_bytes, p.server_bytes_per_precompute));
  }
  return j;
}

nlohmann::json to_json(const RateSummary& r) {
  nlohmann::json j = {{"rate", r.rate},
                      {"runs", r.runs},
                      {"runs_with_completions", r.runs_with_completions},
                      {"mean_latency_s", num(r.mean_latency_s)},
                      {"p50_latency_s", num(r.p50_latency_s)},
                      {"p95_latency_s", num(r.p95_latency_s)},
                      {"p99_latency_s", num(r.p99_latency_s)},
                      {"mean_queue_s", num(r.mean_queue_s)},
                      {"mean_offline_wait_s", num(r.mean_offline_wait_s)},
                      {"mean_online_s", num(r.mean_online_s)},
                      {"arrivals", r.arrivals},
                      {"served", r.served},
                      {"backlog_at_end", r.backlog_at_end},
                      {"backlog_growth", r.backlog_growth},
                      {"stable", r.stable}};
  if (r.client_count > 1) {
    j["aggregate_rate"] = r.rate * r.client_count;
    j["client_count"] = r.client_count;
  }
  if (!r.clients.empty()) {
    nlohmann::json clients = nlohmann::json::array();
    for (const RateSummary& c : r.clients) clients.push_back(to_json(c));
    j["clients"] = std::move(clients);
  }
  return j;
}

nlohmann::json to_json(const SweepResult& s) {
  nlohmann::json rates = nlohmann::json::array();
  for (const RateSummary& r : s.rates) rates.push_back(to_json(r));
  nlohmann::json j = {{"rates", std::move(rates)}};
  j["highest_stable_rate"] =
      s.highest_stable_rate ? nlohmann::json(*s.highest_stable_rate) : nullptr;
  return j;
}

nlohmann::json to_json(const SplitSearchResult& s) {
  nlohmann::json pts = nlohmann::json::array();
  for (const auto& [share, lat] : s.evaluated)
    pts.push_back({{"uplink_share", share}, {"mean_latency_s", num(lat)}});
  return {{"total_mbps", s.total_mbps},
          {"rate", s.rate},
          {"best_uplink_share", s.best_uplink_share},
          {"best_uplink_mbps", s.total_mbps * s.best_uplink_share},
          {"best_downlink_mbps", s.total_mbps * (1.0 - s.best_uplink_share)},
          {"best_mean_latency_s", num(s.best_mean_latency_s)},
          {"evaluated", std::move(pts)}};
}

std::string csv_header() {
  return "series,mode,rate,runs,runs_with_completions,mean_latency_s,p50_latency_s,"
         "p95_latency_s,p99_latency_s,mean_queue_s,mean_offline_wait_s,mean_online_s,arrivals,"
         "served,backlog_at_end,backlog_growth,stable\n";
}

std::string csv_rows(std::string_view label, SimMode mode, const SweepResult& sweep) {
  std::string out;
  for (const RateSummary& r : sweep.rates) {
    out += csv_quote(label) + "," + std::string(to_string(mode)) + "," + csv_num(r.rate) + "," +
           std::to_string(r.runs) + "," + std::to_string(r.runs_with_completions) + "," +
           csv_num(r.mean_latency_s) + "," + csv_num(r.p50_latency_s) + "," +
           csv_num(r.p95_latency_s) + "," + csv_num(r.p99_latency_s) + "," +
           csv_num(r.mean_queue_s) + "," + csv_num(r.mean_offline_wait_s) + "," +
           csv_num(r.mean_online_s) + "," + csv_num(r.arrivals) + "," + csv_num(r.served) + "," +
           csv_num(r.backlog_at_end) + "," + csv_num(r.backlog_growth) + "," +
           (r.stable ? "1" : "0") + "\n";
  }
  return out;
}

}  // namespace pinfer::sim
