// Scenario files: expansion of series, sweeps and modes; malformed scenarios name the field;
// the shipped scenarios parse; wireless split search.
#include <gtest/gtest.h>

#include <filesystem>

#include "pinfer/core/error.hpp"
#include "pinfer/sim/profile_catalog.hpp"
#include "pinfer/sim/scenario.hpp"
#include "pinfer/sim/wireless_split.hpp"

namespace pinfer::sim {
namespace {

using nlohmann::json;

json base_scenario() {
  return json::parse(R"({
    "format": "pinfer-sim-scenario", "version": 1, "name": "t",
    "defaults": {"profile": "paper:cifar10/resnet18", "rates": "0.001:0.002:3", "runs": 4},
    "series": [
      {"label": "SG", "protocol": "server-garbler", "client_storage": "32GB"},
      {"label": "CG", "protocol": "client-garbler", "wireless_total_mbps": 1000,
       "uplink_share": 0.835, "server_he_threads": 17, "mode": "both"}],
    "plots": [{"name": "lat", "kind": "latency", "series": ["SG"], "y_unit": "min"}]})");
}

void expect_format_error_naming(const json& j, const std::string& field) {
  try {
    (void)parse_scenario(j);
    ADD_FAILURE() << "no error; expected one naming " << field;
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos)
        << "message \"" << e.what() << "\" does not name " << field;
  }
}

TEST(Scenario, ExpandsSeriesModesAndSettings) {
  const Scenario sc = parse_scenario(base_scenario());
  ASSERT_EQ(sc.series.size(), 3u);
  EXPECT_EQ(sc.series[0].label, "SG");
  EXPECT_EQ(sc.series[0].config.client_storage_bytes, 32'000'000'000ULL);
  EXPECT_EQ(sc.series[0].rates.size(), 3u);
  EXPECT_EQ(sc.series[0].runs, 4u);
  EXPECT_EQ(sc.series[1].label, "CG [independent]");
  EXPECT_EQ(sc.series[2].label, "CG [contended]");
  EXPECT_EQ(sc.series[2].config.mode, SimMode::contended);
  EXPECT_NEAR(sc.series[1].config.uplink_mbps, 835.0, 1e-9);
  EXPECT_NEAR(sc.series[1].config.downlink_mbps, 165.0, 1e-9);
  EXPECT_EQ(sc.series[1].config.server_he_threads, 17u);
  ASSERT_EQ(sc.plots.size(), 1u);
  EXPECT_EQ(sc.plots[0].y_unit, "min");
}

TEST(Scenario, SweepIsACartesianProduct) {
  json j = base_scenario();
  j.erase("series");
  j.erase("plots");
  j["sweep"] = {{"client_storage", {"16GB", "32GB"}},
                {"protocol", {"server-garbler", "client-garbler"}}};
  const Scenario sc = parse_scenario(j);
  ASSERT_EQ(sc.series.size(), 4u);
  EXPECT_EQ(sc.series[3].config.client_storage_bytes, 32'000'000'000ULL);
  EXPECT_EQ(sc.series[3].config.protocol, "client-garbler");
  EXPECT_NE(sc.series[3].label.find("client_storage=32GB"), std::string::npos);
}

TEST(Scenario, MalformedScenariosNameTheField) {
  const auto with = [](auto edit) {
    json j = base_scenario();
    edit(j);
    return j;
  };
  expect_format_error_naming(with([](json& j) { j["series"][0]["client_storage"] = "16XB"; }),
                             "series[0].client_storage");
  expect_format_error_naming(with([](json& j) { j["series"][1]["protocol"] = "three-party"; }),
                             "series[1].protocol");
  expect_format_error_naming(with([](json& j) { j["defaults"]["rates"] = "0.1:0.01"; }),
                             "defaults.rates");
  expect_format_error_naming(with([](json& j) { j["defaults"]["runs"] = 0; }), "defaults.runs");
  expect_format_error_naming(with([](json& j) { j["series"][0]["uplink_mbps"] = -1; }),
                             "series[0].uplink_mbps");
  expect_format_error_naming(with([](json& j) { j["series"][1].erase("uplink_share"); }),
                             "series[1].uplink_share");
  expect_format_error_naming(with([](json& j) { j["series"][0]["mode"] = "fast"; }),
                             "series[0].mode");
  expect_format_error_naming(with([](json& j) { j["series"][0]["client_storag"] = "1GB"; }),
                             "series[0].client_storag");
  expect_format_error_naming(with([](json& j) { j["series"][0].erase("label"); }),
                             "series[0].label");
  expect_format_error_naming(with([](json& j) {
                               j["series"][1]["label"] = "SG";
                               j["series"][1]["mode"] = "independent";
                             }),
                             "duplicate label");
  expect_format_error_naming(with([](json& j) { j["plots"][0]["series"] = {"nope"}; }),
                             "plots[0].series[0]");
  expect_format_error_naming(with([](json& j) { j["plots"][0]["kind"] = "pie"; }), "plots[0].kind");
  expect_format_error_naming(with([](json& j) { j["format"] = "other"; }), "format");
  expect_format_error_naming(with([](json& j) {
                               j["split_searches"] = {{{"series", "SG"}, {"rate", 0.001}}};
                             }),
                             "split_searches[0].total_mbps");
}

TEST(Scenario, ShippedScenariosParseAndNameShippedProfiles) {
  const std::filesystem::path dir = std::filesystem::path(PINFER_SOURCE_DIR) / "scenarios";
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    const Scenario sc = load_scenario(entry.path().string());
    EXPECT_FALSE(sc.series.empty()) << entry.path();
    for (const SeriesSpec& s : sc.series) {
      EXPECT_NO_THROW(
          (void)resolve_profile_path(s.profile, {std::string(PINFER_SOURCE_DIR) + "/profiles"}))
          << entry.path() << " " << s.label;
    }
    ++n;
  }
  EXPECT_GE(n, 7u);  // six storage studies and the latency breakdown
}

TEST(WirelessSplit, FindsTheUplinkHeavySplitForClientGarbler) {
  // Client-Garbler uploads the garbled circuits (9.5 GB per precompute for ResNet-18 CIFAR-10),
  // so at a load where precomputes matter the best share is uplink-heavy.
  const CostProfile p =
      load_profile_spec("paper:cifar10/resnet18", {std::string(PINFER_SOURCE_DIR) + "/profiles"});
  SystemConfig c;
  c.protocol = "client-garbler";
  c.server_he_threads = 17;
  const SplitSearchResult r =
      search_uplink_share(p.protocol("client-garbler"), c, 1000.0, 0.003, 4, 1, 2);
  EXPECT_GT(r.best_uplink_share, 0.6);
  EXPECT_LT(r.best_uplink_share, 0.99);
  for (const auto& [share, latency] : r.evaluated) EXPECT_GE(latency, r.best_mean_latency_s);
}

}  // namespace
}  // namespace pinfer::sim
