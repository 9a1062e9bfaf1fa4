#include "pinfer/sim/one_off_run.hpp"

#include <fmt/core.h>

#include <cstdlib>

#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/sim/report.hpp"
#include "pinfer/sim/units.hpp"

namespace pinfer::sim {

nlohmann::json to_json(const SeriesRun& s) {
  nlohmann::json j = to_json(s.sweep);
  j["label"] = s.label;
  j["profile"] = s.profile;
  j["mode"] = std::string(to_string(s.config.mode));
  j["config"] = to_json(s.config);
  j["plan"] = plan_to_json(s.plan);
  return j;
}

OneOffRun run_one_off(const CostProfile& profile, const OneOffRequest& request) {
  const SystemConfig& base = request.config;
  if (request.modes.empty()) throw InvalidArgument("a one-off run needs at least one mode");
  if (request.search_split_at && !request.wireless_total_mbps) {
    throw InvalidArgument(
        "searching the uplink share needs the wireless total (wireless_total_mbps and "
        "uplink_share)");
  }
  const ProtocolCosts& costs = profile.protocol(base.protocol);
  OneOffRun run;
  for (SimMode m : request.modes) {
    SeriesRun s;
    s.config = base;
    s.config.mode = m;
    s.label =
        fmt::format("{} {} {} [{}]", profile.name, base.protocol,
                    format_byte_size(static_cast<double>(base.client_storage_bytes)), to_string(m));
    if (base.clients > 1) s.label += fmt::format(" x{} clients", base.clients);
    s.profile = profile.name;
    s.plan = plan_model(costs, s.config);
    s.sweep = run_sweep(s.plan, request.sweep);
    run.series.push_back(std::move(s));
  }
  if (request.search_split_at) {
    SystemConfig c = base;
    c.mode = request.modes.front();
    run.split =
        search_uplink_share(costs, c, *request.wireless_total_mbps, *request.search_split_at,
                            request.sweep.runs, request.sweep.seed, request.sweep.threads);
  }
  run.results = to_json(run.series.front());
  if (run.series.size() > 1) {
    run.results["results"] = nlohmann::json::array();
    for (const SeriesRun& s : run.series) run.results["results"].push_back(to_json(s));
  }
  run.results["runs"] = request.sweep.runs;
  run.results["seed"] = request.sweep.seed;
  run.results["averaging"] = "means over runs of per-run means over completed requests";
  if (run.split) run.results["split_search"] = to_json(*run.split);
  return run;
}

nlohmann::json brief_results(const nlohmann::json& results) {
  // Per-step detail stays in the files; the brief form keeps the phase totals.
  nlohmann::json brief = results;
  const auto trim = [](nlohmann::json& j) {
    j["plan"].erase("offline");
    j["plan"].erase("online");
  };
  trim(brief);
  if (brief.contains("results")) {
    for (auto& r : brief["results"]) trim(r);
  }
  return brief;
}

OneOffSettings one_off_settings(const nlohmann::json& settings) {
  SeriesSpec defaults;
  defaults.rates = parse_rates(std::string(kDefaultRates), "rates");
  SeriesSettings parsed;
  try {
    parsed = parse_series_settings(settings, std::move(defaults));
  } catch (const FormatError& e) {
    // Settings given as arguments, not read from a file: an argument error.
    throw InvalidArgument(e.what());
  }
  OneOffSettings out;
  out.profile = parsed.spec.profile;
  out.request.config = parsed.spec.config;
  out.request.modes = parsed.modes;
  out.request.sweep.rates = parsed.spec.rates;
  out.request.sweep.runs = parsed.spec.runs;
  out.request.sweep.seed = parsed.spec.seed;
  out.request.wireless_total_mbps = parsed.spec.wireless_total_mbps;
  return out;
}

std::vector<std::string> profile_search_dirs(std::vector<std::string> extra,
                                             std::string_view source_dir) {
  if (const char* env = std::getenv("PINFER_PROFILE_DIR"); env != nullptr && *env != '\0') {
    extra.emplace_back(env);
  }
  extra.emplace_back("profiles");
  extra.emplace_back(std::string(source_dir) + "/profiles");
  return extra;
}

}  // namespace pinfer::sim
