#pragma once
// Machine-readable results: JSON objects and CSV rows for sweeps, configurations and plans.
// NaN (no completed request) is written as JSON null and as an empty CSV field.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "pinfer/sim/pi_model.hpp"
#include "pinfer/sim/sweep.hpp"
#include "pinfer/sim/system_config.hpp"
#include "pinfer/sim/wireless_split.hpp"

namespace pinfer::sim {

[[nodiscard]] nlohmann::json to_json(const SystemConfig& config);
// Phase durations (alone, no queueing), storage per precompute, how many precomputes fit, and
// per-step durations.
[[nodiscard]] nlohmann::json plan_to_json(const ModelPlan& plan);
[[nodiscard]] nlohmann::json to_json(const RateSummary& rate);
// {"rates": [...], "highest_stable_rate": x | null}
[[nodiscard]] nlohmann::json to_json(const SweepResult& sweep);
[[nodiscard]] nlohmann::json to_json(const SplitSearchResult& search);

[[nodiscard]] std::string csv_header();
// One line per rate, each starting with the (quoted) series label and mode.
[[nodiscard]] std::string csv_rows(std::string_view label, SimMode mode, const SweepResult& sweep);

}  // namespace pinfer::sim
