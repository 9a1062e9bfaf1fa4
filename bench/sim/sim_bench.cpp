// Simulator throughput: raw engine events, single 24 h runs and the paper-sized sweep
// (45 rates x 50 runs x 24 h, one network, one protocol; target <= 10 s on 2 cores).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "pinfer/sim/engine.hpp"
#include "pinfer/sim/pi_model.hpp"
#include "pinfer/sim/profile_catalog.hpp"
#include "pinfer/sim/sweep.hpp"
#include "pinfer/sim/units.hpp"

namespace pinfer::sim {
namespace {

Task ticker(Engine& e, uint64_t& n) {
  while (true) {
    co_await e.timeout(1.0);
    ++n;
  }
}

void BM_EngineTimeouts(benchmark::State& state) {
  uint64_t events = 0;
  for (auto _ : state) {
    Engine e;
    uint64_t n = 0;
    for (int i = 0; i < 16; ++i) e.spawn(ticker(e, n));
    events += e.run_until(100000.0);
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK(BM_EngineTimeouts)->Unit(benchmark::kMillisecond);

// The bench target has no source-directory macro: find profiles/ from this file's path
// (CMake passes absolute paths), or PINFER_PROFILE_DIR, or ./profiles.
const CostProfile& paper_profile() {
  static const CostProfile p = [] {
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("PINFER_PROFILE_DIR")) dirs.emplace_back(env);
    dirs.push_back((std::filesystem::path(__FILE__).parent_path() / "../../profiles").string());
    dirs.emplace_back("profiles");
    return load_profile_spec("paper:cifar10/resnet18", dirs);
  }();
  return p;
}

ModelPlan paper_plan(const char* protocol, SimMode mode) {
  SystemConfig c;
  c.protocol = protocol;
  c.mode = mode;
  if (c.protocol == "client-garbler") {
    c.uplink_mbps = 835;
    c.downlink_mbps = 165;
    c.server_he_threads = 17;
  }
  return plan_model(paper_profile().protocol(protocol), c);
}

void BM_OneDay(benchmark::State& state, const char* protocol, SimMode mode) {
  const ModelPlan plan = paper_plan(protocol, mode);
  uint64_t events = 0, seed = 0;
  for (auto _ : state) {
    const RunResult r = simulate_run(plan, 0.004, ++seed);
    events += r.events;
    benchmark::DoNotOptimize(r.mean_latency_s);
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK_CAPTURE(BM_OneDay, sg_independent, "server-garbler", SimMode::independent)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OneDay, cg_contended, "client-garbler", SimMode::contended)
    ->Unit(benchmark::kMillisecond);

// The paper-sized sweep: 45 rates x 50 runs x 24 h, all cores.
void BM_PaperSweep(benchmark::State& state) {
  const ModelPlan plan = paper_plan("server-garbler", SimMode::independent);
  SweepOptions opt;
  opt.rates = linspace(0.001, 0.01, 45);
  opt.runs = 50;
  for (auto _ : state) {
    const SweepResult r = run_sweep(plan, opt);
    benchmark::DoNotOptimize(r.rates.back().mean_latency_s);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 45 * 50);
}
BENCHMARK(BM_PaperSweep)->Unit(benchmark::kSecond)->Iterations(3);

}  // namespace
}  // namespace pinfer::sim
