// Simulator throughput: raw engine events, single 24 h runs, the paper-sized sweep
// (45 rates x 50 runs x 24 h, one network, one protocol; target <= 10 s on 2 cores), and many
// clients per server (issue 12: 10,000 clients over 24 h <= 60 s; capacity plan for 10^5
// clients <= 2 min). The same many-client figures come from the `pinfer simulate` commands in
// docs/perf/sim.md.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "pinfer/sim/capacity_plan.hpp"
#include "pinfer/sim/pi_model.hpp"
#include "pinfer/sim/profile_catalog.hpp"
#include "pinfer/sim/random.hpp"
#include "pinfer/sim/sweep.hpp"
#include "pinfer/sim/units.hpp"
#include "sim/engine.hpp"
#include "sim/shared_resource.hpp"

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

// Processor sharing with n concurrent jobs of a few distinct caps: cost per start/finish.
Task ps_job(Engine& e, SharedResource& r, double start, double work, double cap) {
  co_await e.until(start);
  co_await r.use(work, cap);
}

void BM_ProcessorSharing(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  uint64_t events = 0;
  for (auto _ : state) {
    Engine e;
    SharedResource cpu(e, 64.0);
    SimRandom rng(3);
    for (std::size_t i = 0; i < n; ++i) {
      const double caps[] = {1.0, 4.0, 32.0};
      e.spawn(ps_job(e, cpu, 100.0 * rng.uniform(), 1.0 + 99.0 * rng.uniform(), caps[i % 3]));
    }
    events += e.run_until(1e9);
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK(BM_ProcessorSharing)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// 10,000 clients for 24 h at 0.0005 requests/s each (CIFAR-10 ResNet-18, Server-Garbler,
// contended): as 100 servers of 100 clients (32 cores, 10,000 GB each; 100 independent runs)
// and as one server of 10,000 clients with 100 times the cores and storage.
SystemConfig many_clients_config(uint32_t clients, uint32_t cores, uint64_t storage) {
  SystemConfig c;
  c.mode = SimMode::contended;
  c.clients = clients;
  c.server_cores = cores;
  c.server_storage_bytes = storage;
  return c;
}

void BM_TenThousandClientsAs100Servers(benchmark::State& state) {
  const ModelPlan plan = plan_model(paper_profile().protocol("server-garbler"),
                                    many_clients_config(100, 32, 10'000'000'000'000ULL));
  SweepOptions opt;
  opt.rates = {0.0005};
  opt.runs = 100;
  for (auto _ : state) {
    const SweepResult r = run_sweep(plan, opt);
    benchmark::DoNotOptimize(r.rates.back().mean_latency_s);
    state.counters["mean_latency_s"] = r.rates.back().mean_latency_s;
    state.counters["events"] = static_cast<double>(r.rates.back().events);
  }
}
BENCHMARK(BM_TenThousandClientsAs100Servers)->Unit(benchmark::kSecond)->Iterations(1);

void BM_TenThousandClientsOnOneServer(benchmark::State& state) {
  const ModelPlan plan = plan_model(paper_profile().protocol("server-garbler"),
                                    many_clients_config(10000, 3200, 1'000'000'000'000'000ULL));
  for (auto _ : state) {
    const RunResult r = simulate_run(plan, 0.0005, 1);
    benchmark::DoNotOptimize(r.mean_latency_s);
    state.counters["mean_latency_s"] = r.mean_latency_s;
    state.counters["events"] = static_cast<double>(r.events);
  }
}
BENCHMARK(BM_TenThousandClientsOnOneServer)->Unit(benchmark::kSecond)->Iterations(1);

// Capacity plan: most clients per 32-core server at 0.0005 requests/s each with mean latency
// <= 120 s, and the fleet for 10^5 clients (3 runs of 24 h per evaluated count).
void BM_CapacityPlan100kClients(benchmark::State& state) {
  CapacityPlanOptions opt;
  opt.rate_per_client = 0.0005;
  opt.target_s = 120.0;
  opt.runs = 3;
  opt.fleet_clients = 100000;
  const SystemConfig c = many_clients_config(1, 32, 10'000'000'000'000ULL);
  for (auto _ : state) {
    const CapacityPlan p = plan_capacity(paper_profile().protocol("server-garbler"), c, opt);
    state.counters["clients_per_server"] = p.max_clients_per_server;
    state.counters["servers"] = static_cast<double>(p.servers);
    state.counters["evaluations"] = static_cast<double>(p.evaluated.size());
  }
}
BENCHMARK(BM_CapacityPlan100kClients)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace pinfer::sim
