// Cost-profile schema: round trip, malformed input errors naming the field, thread scaling.
#include <gtest/gtest.h>

#include <filesystem>

#include "pinfer/core/error.hpp"
#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/paper_costs.hpp"
#include "pinfer/sim/pi_model.hpp"
#include "pinfer/sim/units.hpp"

namespace pinfer::sim {
namespace {

using nlohmann::json;

json minimal_profile() {
  return json::parse(R"({
    "format": "pinfer-cost-profile", "version": 1, "name": "test", "relu_count": 10,
    "protocols": { "server-garbler": {
      "storage_bytes_per_precompute": {"client": 100, "server": 50},
      "offline": [
        {"label": "gc", "party": "server", "kind": "compute", "category": "gc", "seconds": 8,
         "scaling": "linear", "threads": "server_gc"},
        {"label": "he", "party": "server", "kind": "compute", "category": "he", "seconds": 10,
         "scaling": "table", "threads": "server_he", "seconds_by_threads": [10, 6],
         "per_layer_seconds": [4, 3, 3]},
        {"label": "gc down", "party": "server", "kind": "transfer", "bytes": 1000000,
         "direction": "down"}],
      "online": [
        {"label": "eval", "party": "client", "kind": "compute", "seconds": 2}]}}})");
}

// Expects `f` to throw E with `field` in the message.
template <typename E, typename F>
void expect_error_naming(F&& f, const std::string& field) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one naming " << field;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos)
        << "message \"" << e.what() << "\" does not name " << field;
  }
}

TEST(CostProfile, RoundTripsThroughJson) {
  const CostProfile p = cost_profile_from_json(minimal_profile());
  EXPECT_EQ(to_json(cost_profile_from_json(to_json(p))), to_json(p));
  const std::string file = std::string(PINFER_BINARY_DIR) + "/sim_test_profile.json";
  save_cost_profile(p, file);
  EXPECT_EQ(to_json(load_cost_profile(file)), to_json(p));
  std::filesystem::remove(file);
}

TEST(CostProfile, MalformedProfilesNameTheField) {
  const auto with = [](auto edit) {
    json j = minimal_profile();
    edit(j);
    return j;
  };
  const auto expect = [&](json j, const std::string& field) {
    expect_error_naming<FormatError>([&] { (void)cost_profile_from_json(j); }, field);
  };
  expect(with([](json& j) { j.erase("relu_count"); }), "relu_count");
  expect(with([](json& j) { j["version"] = 7; }), "version");
  expect(with([](json& j) { j["protocols"]["server-garbler"]["offline"][2]["bytes"] = -5; }),
         "protocols.server-garbler.offline[2].bytes");
  expect(with([](json& j) { j["protocols"]["server-garbler"]["offline"][2]["bytes"] = "lots"; }),
         "protocols.server-garbler.offline[2].bytes");
  expect(with([](json& j) { j["protocols"]["server-garbler"]["offline"][0]["scaling"] = "cubic"; }),
         "protocols.server-garbler.offline[0].scaling");
  expect(with([](json& j) { j["protocols"]["server-garbler"]["offline"][0].erase("threads"); }),
         "protocols.server-garbler.offline[0].threads");
  expect(with([](json& j) {
           j["protocols"]["server-garbler"]["offline"][1]["seconds_by_threads"] = json::array();
         }),
         "protocols.server-garbler.offline[1].seconds_by_threads");
  expect(with([](json& j) { j["protocols"]["server-garbler"]["offline"][2]["direction"] = "up"; }),
         "protocols.server-garbler.offline[2].direction");
  expect(with([](json& j) { j["protocols"]["server-garbler"]["online"][0]["secnods"] = 1; }),
         "protocols.server-garbler.online[0].secnods");
  expect(with([](json& j) {
           j["protocols"]["server-garbler"]["storage_bytes_per_precompute"].erase("server");
         }),
         "protocols.server-garbler.storage_bytes_per_precompute.server");
  expect(with([](json& j) { j["protocols"]["three-party"] = j["protocols"]["server-garbler"]; }),
         "protocols.three-party");
  expect(with([](json& j) { j["protocols"]["server-garbler"]["online"] = json::array(); }),
         "protocols.server-garbler.online");
}

TEST(CostProfile, UnreadableFileIsIoError) {
  EXPECT_THROW((void)load_cost_profile("/nonexistent/profile.json"), IoError);
}

TEST(CostProfile, ThreadScalingAndSpeedups) {
  const CostProfile p = cost_profile_from_json(minimal_profile());
  const ProtocolCosts& c = p.protocol("server_garbler");  // '_' accepted
  SystemConfig cfg;
  cfg.server_gc_threads = 4;
  cfg.server_he_threads = 2;
  cfg.downlink_mbps = 8;                                   // 1e6 B/s
  EXPECT_DOUBLE_EQ(step_seconds(c.offline[0], cfg), 2.0);  // 8 s / 4 threads
  EXPECT_DOUBLE_EQ(step_seconds(c.offline[1], cfg), 6.0);  // measured table at 2 threads
  cfg.server_he_threads = 3;                               // beyond the table: LPT of {4,3,3}
  EXPECT_DOUBLE_EQ(step_seconds(c.offline[1], cfg), 4.0);
  cfg.he_model = HeModel::lpt;
  cfg.server_he_threads = 2;  // LPT: {4}, {3,3} -> 6
  EXPECT_DOUBLE_EQ(step_seconds(c.offline[1], cfg), 6.0);
  cfg.he_speedup = 2;
  EXPECT_DOUBLE_EQ(step_seconds(c.offline[1], cfg), 3.0);
  cfg.gc_speedup = 4;
  EXPECT_DOUBLE_EQ(step_seconds(c.offline[0], cfg), 0.5);
  EXPECT_DOUBLE_EQ(step_seconds(c.offline[2], cfg), 1.0);
  cfg.bandwidth_speedup = 10;
  EXPECT_DOUBLE_EQ(step_seconds(c.offline[2], cfg), 0.1);
  cfg.client_device_factor = 5.6;
  EXPECT_DOUBLE_EQ(step_seconds(c.online[0], cfg), 2.0 * 5.6);
  EXPECT_THROW((void)p.protocol("client-garbler"), InvalidArgument);
}

TEST(CostProfile, LptMakespan) {
  EXPECT_DOUBLE_EQ(lpt_makespan({5, 4, 3, 3, 3}, 1), 18.0);
  // LPT on 2 threads: 5 -> A, 4 -> B, 3 -> B (7), 3 -> A (8), 3 -> B (10).
  EXPECT_DOUBLE_EQ(lpt_makespan({5, 4, 3, 3, 3}, 2), 10.0);
  EXPECT_DOUBLE_EQ(lpt_makespan({5, 4, 3, 3, 3}, 8), 5.0);
}

TEST(PaperCosts, LeastSquaresLine) {
  const LineFit f = least_squares_line({1, 10, 100}, {3, 21, 201});  // y = 2x + 1
  EXPECT_NEAR(f.slope, 2.0, 1e-12);
  EXPECT_NEAR(f.intercept, 1.0, 1e-12);
}

TEST(PaperCosts, MalformedMeasurementsNameTheField) {
  json j = json::parse(R"({"gc_relu_benchmarks_seconds": {"num_relus": [1, 10, 100],
      "server_garble": [1, 2, 3], "server_evaluate": [1, 2, 3], "client_garble": [1, 2],
      "client_evaluate": [1, 2, 3]}, "he_eval_seconds_by_threads": {}})");
  expect_error_naming<FormatError>([&] { (void)convert_paper_measurements(j); },
                                   "gc_relu_benchmarks_seconds.client_garble");
}

TEST(Units, Rates) {
  const auto r = parse_rates("0.001:0.01:10", "--rates");
  ASSERT_EQ(r.size(), 10u);
  EXPECT_DOUBLE_EQ(r.front(), 0.001);
  EXPECT_DOUBLE_EQ(r.back(), 0.01);
  EXPECT_NEAR(r[1], 0.002, 1e-15);
  EXPECT_EQ(parse_rates("0.5,0.25", "--rates"), (std::vector<double>{0.5, 0.25}));
  expect_error_naming<InvalidArgument>([] { (void)parse_rates("0.1:0.2:x", "--rates"); },
                                       "--rates");
  expect_error_naming<InvalidArgument>([] { (void)parse_rates("0:1:3", "--rates"); }, "--rates");
  expect_error_naming<InvalidArgument>([] { (void)parse_rates("0.1,-2", "--rates"); }, "--rates");
}

}  // namespace
}  // namespace pinfer::sim

namespace pinfer::sim {
namespace {

// What `pinfer characterize` will do: build a profile in code, save it, simulate it.
TEST(CostProfile, MeasuredProfileBuiltInCodeSavesLoadsAndSimulates) {
  CostProfile p;
  p.name = "measured:test";
  p.relu_count = 1000;
  p.source = {"measured", "per-layer measurements summed", "unit test"};
  ProtocolCosts& c = p.protocols["server-garbler"];
  c.offline.push_back(CostStep::compute("garble", Party::server, Category::gc, 4.0));
  c.offline.back().scaling = Scaling::linear;
  c.offline.back().threads = ThreadPool::server_gc;
  c.offline.push_back(CostStep::transfer("download GC", Party::server, 62.5e6));
  c.online.push_back(CostStep::compute("evaluate", Party::client, Category::gc, 1.0));
  c.client_storage_bytes = 1000;
  c.server_storage_bytes = 100;
  const std::string file = std::string(PINFER_BINARY_DIR) + "/sim_measured_profile.json";
  save_cost_profile(p, file);
  const CostProfile back = load_cost_profile(file);
  std::filesystem::remove(file);
  EXPECT_EQ(to_json(back), to_json(p));
  SystemConfig cfg;
  cfg.server_gc_threads = 4;
  const ModelPlan plan = plan_model(back.protocol("server-garbler"), cfg);
  EXPECT_DOUBLE_EQ(plan.offline.seconds, 1.0 + 1.0);  // 4 s / 4 threads + 62.5 MB at 500 Mbit/s
  EXPECT_DOUBLE_EQ(plan.online.seconds, 1.0);

  // A step with linear scaling but no thread pool is refused before anything is written.
  c.online.back().scaling = Scaling::linear;
  EXPECT_THROW(save_cost_profile(p, file), InvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(file));
}

}  // namespace
}  // namespace pinfer::sim
