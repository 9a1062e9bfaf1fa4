#pragma once
// Scenario files: one experiment as JSON, run by `pinfer simulate scenario.json --out DIR`.
//
//   { "format": "pinfer-sim-scenario", "version": 1, "name": "...", "description": "...",
//     "defaults": { settings },                 // applied to every series
//     "series": [ { "label": "...", settings }, ... ],   // optional: default one series
//     "sweep": { "<setting>": [v1, v2, ...], ... },      // optional: cartesian product
//     "plots": [ { "name", "kind": "latency"|"breakdown", "title", "series": [labels],
//                  "y_unit": "s"|"min"|"h", "stable_only": bool } ],
//     "split_searches": [ { "series": label, "total_mbps": x, "rate": r } ] }
//
// Settings (all optional, defaults in system_config.hpp): profile, protocol, mode
// (independent | contended | both: both expands into two series), policy, client_storage,
// server_storage (sizes such as "16GB" or integer bytes), uplink_mbps, downlink_mbps,
// wireless_total_mbps + uplink_share, client_threads, server_gc_threads, server_he_threads,
// client_cores, server_cores, he_model, he_speedup, gc_speedup, bandwidth_speedup,
// client_device_factor, poll_interval_s, sim_hours, runs, seed, rates ("a:b:n", an array, or
// {"start", "end", "count"}); many clients: clients, server_quota_per_client (size),
// server_uplink_mbps, server_downlink_mbps, shared_cores, drain. Unknown keys are errors. Errors
// are FormatError naming the field path, e.g. "series[2].client_storage: ...". Full schema:
// docs/SIMULATOR.md.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pinfer/sim/system_config.hpp"

namespace pinfer::sim {

struct SeriesSpec {
  std::string label;
  std::string profile = "paper:cifar10/resnet18";
  SystemConfig config;
  std::vector<double> rates;
  uint32_t runs = 30;
  uint64_t seed = 1;
  std::optional<double> wireless_total_mbps;  // with uplink_share: already applied to config
  std::optional<double> uplink_share;
};

enum class PlotKind { latency, breakdown };

struct PlotSpec {
  std::string name;
  PlotKind kind = PlotKind::latency;
  std::string title;
  std::vector<std::string> series;  // labels; empty: all (latency) / first (breakdown)
  std::string y_unit = "s";         // s, min or h
  bool stable_only = false;         // omit rates flagged unstable
};

struct SplitSearchSpec {
  std::string series;  // label of the series whose configuration is searched
  double total_mbps = 0;
  double rate = 0;
};

struct Scenario {
  std::string name;
  std::string description;
  std::vector<SeriesSpec> series;
  std::vector<PlotSpec> plots;
  std::vector<SplitSearchSpec> split_searches;
};

inline constexpr int kScenarioVersion = 1;
inline constexpr std::size_t kMaxScenarioSeries = 1000;

// FormatError naming the field for anything malformed (including sizes and rates).
[[nodiscard]] Scenario parse_scenario(const nlohmann::json& j);
// One series from settings alone (the keys above; "mode" may be "both"), applied over
// `defaults`: the spec (wireless split applied, validated) and the modes to run it in.
// FormatError naming the key.
struct SeriesSettings {
  SeriesSpec spec;
  std::vector<SimMode> modes;
};
[[nodiscard]] SeriesSettings parse_series_settings(const nlohmann::json& settings,
                                                   SeriesSpec defaults);
// IoError if unreadable; FormatError (prefixed with the file name) if malformed. A relative
// non-"paper:" profile path is resolved against the scenario file's directory.
[[nodiscard]] Scenario load_scenario(const std::string& file);

}  // namespace pinfer::sim
