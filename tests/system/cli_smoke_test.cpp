// Every `pinfer` command a user runs first, on the real executable with tiny sizes: demo,
// characterize (then simulate on the profile it measured), simulate on a shipped profile,
// selfcheck, and each `bench` part (`bench arrivals` has its own test, arrivals_test.cpp). Each
// must exit 0 and print what it promises: bit-exact results, a valid profile, figures that are
// numbers. The defaults find the shipped data beside the binary (no source path is passed where
// the command has a default), as an installed `pinfer` would.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "pi_harness.hpp"

namespace pinfer::system_test {
namespace {

struct CliRun {
  int status = -1;
  std::string out, err;
};

CliRun run_cli(const fs::path& work, std::vector<std::string> words,
               std::chrono::seconds timeout = 240s) {
  words.insert(words.begin(), cli_path());
  ChildProcess child(words, {work / "out", work / "err"});
  const auto st = child.wait_for(timeout);
  CliRun r;
  r.status = st.value_or(-1);
  r.out = child.stdout_text();
  r.err = child.stderr_text();
  return r;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A bench's --json object: at least one figure, every number finite and not negative.
void expect_bench_figures(const CliRun& r, const std::string& which) {
  ASSERT_EQ(r.status, 0) << which << "\n" << r.err << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_object()) << which;
  std::size_t numbers = 0;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_number()) continue;
    ++numbers;
    const double v = value.get<double>();
    EXPECT_TRUE(std::isfinite(v) && v >= 0) << which << " " << key << " = " << v;
  }
  EXPECT_GT(numbers, 0u) << which << ": no figures in " << r.out;
}

class CliSmoke : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(work_); }
  const fs::path work_ = fresh_dir("cli-smoke");
};

TEST_F(CliSmoke, DemoIsBitExactUnderBothProtocols) {
  const CliRun r = run_cli(work_, {"demo", "--count", "1"});
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_EQ(count_of(r.out, "logits bit-exact: yes"), 2u) << r.out;  // one image, two protocols
  EXPECT_EQ(count_of(r.out, "bit-exact: NO"), 0u) << r.out;
  EXPECT_NE(r.out.find("TLS 1.3"), std::string::npos) << r.out;
}

TEST_F(CliSmoke, CharacterizeWritesAProfileTheSimulatorRuns) {
  const fs::path profile = work_ / "digits.json";
  const CliRun c =
      run_cli(work_, {"characterize", digits_model(), "--out", profile.string(), "--store-dir",
                      (work_ / "stores").string(), "--capacity", "2GB"});
  ASSERT_EQ(c.status, 0) << c.err << c.out;
  const nlohmann::json p = nlohmann::json::parse(read_text(profile));
  const nn::LoadedModel model = nn::load_model(digits_model());
  EXPECT_EQ(p.at("relu_count").get<uint64_t>(), nn::count(model.lowered).relus);
  for (const char* protocol : {"server-garbler", "client-garbler"}) {
    const auto& costs = p.at("protocols").at(protocol);
    EXPECT_FALSE(costs.at("offline").empty()) << protocol;
    EXPECT_FALSE(costs.at("online").empty()) << protocol;
  }
  const CliRun s = run_cli(work_, {"simulate", "--profile", profile.string(), "--rates", "0.5",
                                   "--runs", "2", "--sim-hours", "0.05", "--json"});
  ASSERT_EQ(s.status, 0) << s.err << s.out;
  const nlohmann::json j = nlohmann::json::parse(s.out);
  EXPECT_NE(s.out.find("mean_latency_s"), std::string::npos) << s.out;
  EXPECT_FALSE(j.empty());
}

TEST_F(CliSmoke, SimulateAShippedProfile) {
  const CliRun r = run_cli(work_, {"simulate", "--profile", "paper:cifar10/resnet32", "--protocol",
                                   "client-garbler", "--client-storage", "16GB", "--rates",
                                   "0.001,0.01", "--runs", "2", "--sim-hours", "1", "--json"});
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  std::size_t rates = 0;
  // The per-rate figures, wherever the series puts them: two rates, each with a positive mean.
  const std::function<void(const nlohmann::json&)> visit = [&](const nlohmann::json& v) {
    if (v.is_object()) {
      if (v.contains("rate") && v.contains("mean_latency_s")) {
        ++rates;
        if (v.at("served").get<double>() > 0) {
          EXPECT_GT(v.at("mean_latency_s").get<double>(), 0);
        }
      }
      for (const auto& [k, e] : v.items()) visit(e);
    } else if (v.is_array()) {
      for (const auto& e : v) visit(e);
    }
  };
  visit(j);
  EXPECT_EQ(rates, 2u) << r.out;
}

TEST_F(CliSmoke, SelfcheckPasses) {
  const CliRun r = run_cli(work_, {"selfcheck"});
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("selfcheck passed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
}

TEST_F(CliSmoke, BenchPrg) {
  expect_bench_figures(
      run_cli(work_, {"bench", "prg", "--repeats", "1", "--mbytes", "1", "--json"}), "prg");
}

TEST_F(CliSmoke, BenchNet) {
  expect_bench_figures(
      run_cli(work_, {"bench", "net", "--repeats", "1", "--mbytes", "1", "--json"}), "net");
}

TEST_F(CliSmoke, BenchHeOnTheDigitsModel) {
  expect_bench_figures(run_cli(work_, {"bench", "he", "--model", digits_model(), "--repeats", "1",
                                       "--no-lphe", "--json"}),
                       "he");
}

TEST_F(CliSmoke, BenchGc) {
  expect_bench_figures(
      run_cli(work_, {"bench", "gc", "--repeats", "1", "--instances", "1024", "--json"}), "gc");
}

TEST_F(CliSmoke, BenchOt) {
  expect_bench_figures(run_cli(work_, {"bench", "ot", "--repeats", "1", "--n", "1024", "--json"}),
                       "ot");
}

TEST_F(CliSmoke, BenchLoadAllResultsRight) {
  const CliRun r =
      run_cli(work_, {"bench", "load", "--clients", "2", "--requests", "2", "--time-limit-s", "120",
                      "--json", "--work", (work_ / "load").string()});
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("served").get<double>(), 2.0) << r.out;
  EXPECT_EQ(j.at("wrong_outputs").get<double>(), 0.0) << r.out;
  EXPECT_EQ(j.at("failed").get<double>(), 0.0) << r.out;
}

}  // namespace
}  // namespace pinfer::system_test
