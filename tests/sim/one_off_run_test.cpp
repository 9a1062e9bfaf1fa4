// One-off runs (what `pinfer simulate --json` and pinfer.simulate print): settings parsed as a
// scenario series' settings, one series per mode, the brief form without per-step detail.
#include <gtest/gtest.h>

#include "pinfer/core/error.hpp"
#include "pinfer/sim/one_off_run.hpp"
#include "pinfer/sim/units.hpp"
#include "sim/synthetic_costs.hpp"

namespace pinfer::sim {
namespace {

using nlohmann::json;

CostProfile synthetic_profile() {
  CostProfile p;
  p.name = "synthetic";
  p.protocols["server-garbler"] = test::synthetic_costs(5.0, 2.0, 1000, 10);
  return p;
}

TEST(OneOffRun, SettingsDefaultAndParse) {
  const OneOffSettings defaults = one_off_settings(json::object());
  EXPECT_EQ(defaults.profile, "paper:cifar10/resnet18");
  EXPECT_EQ(defaults.request.sweep.rates, parse_rates(std::string(kDefaultRates), "rates"));
  EXPECT_EQ(defaults.request.modes, std::vector<SimMode>{SimMode::independent});
  EXPECT_EQ(defaults.request.sweep.runs, 30u);

  const OneOffSettings s = one_off_settings(json::parse(
      R"({"protocol": "client-garbler", "rates": [0.5, 1], "runs": 2, "seed": 9, "mode": "both",
          "client_storage": "1GB", "wireless_total_mbps": 100, "uplink_share": 0.25})"));
  EXPECT_EQ(s.request.config.protocol, "client-garbler");
  EXPECT_EQ(s.request.sweep.rates, (std::vector<double>{0.5, 1}));
  EXPECT_EQ(s.request.sweep.runs, 2u);
  EXPECT_EQ(s.request.sweep.seed, 9u);
  EXPECT_EQ(s.request.modes.size(), 2u);
  EXPECT_EQ(s.request.config.client_storage_bytes, 1'000'000'000u);
  EXPECT_EQ(s.request.wireless_total_mbps, 100.0);
  EXPECT_DOUBLE_EQ(s.request.config.uplink_mbps, 25.0);
}

TEST(OneOffRun, BadSettingsAreArgumentErrorsNamingTheKey) {
  for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
           {R"({"warp": 1})", "warp"},
           {R"({"runs": 0})", "runs"},
           {R"({"client_storage": "lots"})", "client_storage"},
           {R"({"uplink_share": 0.5})", "wireless_total_mbps"},
           {R"([1, 2])", "settings"}}) {
    try {
      (void)one_off_settings(json::parse(text));
      ADD_FAILURE() << text << ": no error";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

TEST(OneOffRun, OneSeriesPerModeAndBriefResults) {
  OneOffRequest request;
  request.modes = {SimMode::independent, SimMode::contended};
  request.sweep.rates = {0.01, 0.02};
  request.sweep.runs = 2;
  request.sweep.seed = 5;
  request.config.sim_hours = 1;
  const OneOffRun run = run_one_off(synthetic_profile(), request);
  ASSERT_EQ(run.series.size(), 2u);
  EXPECT_EQ(run.series[1].config.mode, SimMode::contended);
  const json& r = run.results;
  EXPECT_EQ(r["profile"], "synthetic");
  EXPECT_EQ(r["mode"], "independent");
  EXPECT_EQ(r["runs"], 2);
  EXPECT_EQ(r["seed"], 5);
  ASSERT_EQ(r["results"].size(), 2u);
  EXPECT_EQ(r["results"][1]["mode"], "contended");
  EXPECT_EQ(r["rates"].size(), 2u);
  EXPECT_TRUE(r["plan"].contains("online"));
  const json brief = brief_results(r);
  EXPECT_FALSE(brief["plan"].contains("online"));
  EXPECT_FALSE(brief["results"][1]["plan"].contains("offline"));
  EXPECT_EQ(brief["rates"], r["rates"]);
  // Reproducible: the same request gives the same results.
  EXPECT_EQ(run_one_off(synthetic_profile(), request).results, r);
}

TEST(OneOffRun, SplitSearchNeedsTheWirelessTotal) {
  OneOffRequest request;
  request.sweep.rates = {0.01};
  request.sweep.runs = 1;
  request.config.sim_hours = 1;
  request.search_split_at = 0.01;
  EXPECT_THROW((void)run_one_off(synthetic_profile(), request), InvalidArgument);
  request.wireless_total_mbps = 100;
  const OneOffRun run = run_one_off(synthetic_profile(), request);
  ASSERT_TRUE(run.split.has_value());
  EXPECT_TRUE(run.results.contains("split_search"));
}

}  // namespace
}  // namespace pinfer::sim
