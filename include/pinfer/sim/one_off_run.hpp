#pragma once
// A one-off simulation: one profile, one system configuration, swept over arrival rates in one or
// both modes, and its results as the JSON object `pinfer simulate --json` prints. The command and
// the Python module's pinfer.simulate both run it, so the two answer in one schema.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/pi_model.hpp"
#include "pinfer/sim/scenario.hpp"
#include "pinfer/sim/sweep.hpp"
#include "pinfer/sim/system_config.hpp"
#include "pinfer/sim/wireless_split.hpp"

namespace pinfer::sim {

// The rates a one-off run sweeps unless told otherwise (per client, requests/s).
inline constexpr std::string_view kDefaultRates = "0.001:0.01:45";

// One simulated series: its plan and its sweep.
struct SeriesRun {
  std::string label;
  std::string profile;
  SystemConfig config;
  ModelPlan plan;
  SweepResult sweep;
};

// The sweep, label, profile name, mode, configuration and plan of one series.
[[nodiscard]] nlohmann::json to_json(const SeriesRun& series);

struct OneOffRequest {
  SystemConfig config;  // validated; its mode is replaced by `modes`
  std::vector<SimMode> modes = {SimMode::independent};
  SweepOptions sweep;                         // rates, runs, seed, threads
  std::optional<double> wireless_total_mbps;  // what config's links were split from
  std::optional<double> search_split_at;      // a rate: search the best uplink share there
};

struct OneOffRun {
  std::vector<SeriesRun> series;  // one per mode
  std::optional<SplitSearchResult> split;
  // The first series' fields at the top level, "results" with every series when there are
  // several, runs, seed, averaging and split_search: results.json of `pinfer simulate --out`.
  nlohmann::json results;
};

// Throws InvalidArgument for a search_split_at without wireless_total_mbps, and as
// plan_model / run_sweep / search_uplink_share.
[[nodiscard]] OneOffRun run_one_off(const CostProfile& profile, const OneOffRequest& request);

// `results` without the per-step detail of each plan: what `pinfer simulate --json` prints.
[[nodiscard]] nlohmann::json brief_results(const nlohmann::json& results);

// A one-off request from settings named as in a scenario file's series (scenario.hpp: profile,
// protocol, mode incl. "both", client_storage, rates, runs, seed, ...; rates default to
// kDefaultRates). Also returns the profile spec. InvalidArgument naming the bad setting.
struct OneOffSettings {
  std::string profile;
  OneOffRequest request;
};
[[nodiscard]] OneOffSettings one_off_settings(const nlohmann::json& settings);

// Where "paper:" profile names are looked up: `extra`, then $PINFER_PROFILE_DIR, ./profiles and
// <source_dir>/profiles.
[[nodiscard]] std::vector<std::string> profile_search_dirs(std::vector<std::string> extra,
                                                           std::string_view source_dir);

}  // namespace pinfer::sim
