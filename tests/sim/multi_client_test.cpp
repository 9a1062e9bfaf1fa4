// Many clients per server: one client is the old model exactly, processor sharing of the
// server CPU against the M/G/1-PS closed form, storage quotas, precompute bookkeeping, drain,
// the shared core pool, overlapping steps, the shared resource against a brute-force
// reference, capacity planning and errors naming the bad setting.
#include <gtest/gtest.h>

#include "sim/synthetic_costs.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "../expect_message.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/sim/arrivals.hpp"
#include "pinfer/sim/capacity_plan.hpp"
#include "pinfer/sim/multi_client.hpp"
#include "pinfer/sim/profile_catalog.hpp"
#include "pinfer/sim/random.hpp"
#include "pinfer/sim/scenario.hpp"
#include "sim/shared_resource.hpp"

namespace pinfer::sim {
namespace {

using test_support::message_of;

using test::synthetic_costs;

// A profile with transfers, threads and contention on every resource.
ProtocolCosts rich_costs() {
  ProtocolCosts c;
  c.offline.push_back(CostStep::compute("keygen", Party::client, Category::he, 2.0));
  c.offline.push_back(CostStep::transfer("upload", Party::client, 30e6));
  c.offline.push_back(CostStep::compute("garble", Party::server, Category::gc, 40.0));
  c.offline.back().scaling = Scaling::linear;
  c.offline.back().threads = ThreadPool::server_gc;
  c.offline.push_back(CostStep::transfer("gc download", Party::server, 200e6));
  c.online.push_back(CostStep::transfer("input", Party::client, 1e6));
  c.online.push_back(CostStep::compute("linear", Party::server, Category::ss, 0.5));
  c.online.push_back(CostStep::transfer("labels", Party::server, 20e6));
  c.online.push_back(CostStep::compute("evaluate", Party::client, Category::gc, 3.0));
  c.online.back().scaling = Scaling::linear;
  c.online.back().threads = ThreadPool::client;
  c.client_storage_bytes = 1000;
  c.server_storage_bytes = 200;
  return c;
}

SystemConfig rich_config(SimMode mode) {
  SystemConfig c;
  c.mode = mode;
  c.client_storage_bytes = 3500;
  c.server_storage_bytes = 100000;
  c.uplink_mbps = 100;
  c.downlink_mbps = 200;
  c.server_gc_threads = 8;
  c.sim_hours = 6;
  return c;
}

void expect_same_stats(const RunStats& a, const RunStats& b) {
  EXPECT_EQ(a.arrivals, b.arrivals);
  EXPECT_EQ(a.served, b.served);
  EXPECT_EQ(a.backlog_at_end, b.backlog_at_end);
  EXPECT_EQ(a.in_system_at_half, b.in_system_at_half);
  EXPECT_EQ(a.precomputes_made, b.precomputes_made);
  // Bit-identical: the same arithmetic on the same events.
  EXPECT_EQ(a.mean_latency_s, b.mean_latency_s);
  EXPECT_EQ(a.p99_latency_s, b.p99_latency_s);
  EXPECT_EQ(a.mean_queue_s, b.mean_queue_s);
  EXPECT_EQ(a.mean_offline_wait_s, b.mean_offline_wait_s);
  EXPECT_EQ(a.mean_online_s, b.mean_online_s);
}

TEST(MultiClient, OneClientIsTheSingleClientModelAndReplaysTheArrivalSequence) {
  for (SimMode mode : {SimMode::independent, SimMode::contended}) {
    const SystemConfig cfg = rich_config(mode);
    const ProtocolCosts costs = rich_costs();
    const ModelPlan plan = plan_model(costs, cfg);
    const double rate = 0.01;
    const RunResult direct = simulate_run(plan, rate, 99);
    const MultiClientResult multi = simulate_clients(costs, cfg, rate, 99);
    expect_same_stats(direct, multi.run);
    ASSERT_EQ(multi.run.clients.size(), 1u);
    expect_same_stats(direct, multi.run.clients[0]);
    EXPECT_EQ(multi.aggregate.mean_latency_s, direct.mean_latency_s);
    EXPECT_TRUE(multi.aggregate.clients.empty());
    // The arrivals are the published simulator's: running sums of Exp(rate) draws from
    // mt19937_64 seeded with the run seed, and poisson_arrival_times gives the same list.
    const std::vector<double> times = poisson_arrival_times(rate, 99, 0, plan.horizon_s);
    EXPECT_EQ(times.size(), direct.arrivals);
    SimRandom rng(99);
    double t = 0;
    for (double a : times) {
      t += rng.exponential(rate);
      ASSERT_EQ(a, t);
    }
    for (std::size_t i = 0; i < multi.requests.size(); ++i) {
      EXPECT_EQ(multi.requests[i].arrival_s, times[i]);  // one FIFO client: completion order
    }
  }
}

// Figures printed by the simulator before it had many clients (commit 8b409e5, same sweep:
// rate 0.001 of linspace(0.001, 0.01, 10), 5 runs, seed 7, CIFAR-10 ResNet-18 paper profile):
// one client must give them bit for bit.
TEST(MultiClient, OneClientReproducesTheEarlierSimulatorBitForBit) {
  const CostProfile profile =
      load_profile_spec("paper:cifar10/resnet18", {std::string(PINFER_SOURCE_DIR) + "/profiles"});
  SweepOptions sw;
  sw.rates = {0.001};
  sw.runs = 5;
  sw.seed = 7;
  SystemConfig sg;
  sg.client_storage_bytes = 32'000'000'000ULL;
  const RateSummary a =
      run_sweep(plan_model(profile.protocol("server-garbler"), sg), sw).rates.front();
  EXPECT_EQ(a.mean_latency_s, 76.61001032285193);
  EXPECT_EQ(a.mean_queue_s, 4.541309847447948);
  SystemConfig cg;
  cg.protocol = "client-garbler";
  cg.mode = SimMode::contended;
  cg.policy = PrecomputePolicy::eager;
  const RateSummary b =
      run_sweep(plan_model(profile.protocol("client-garbler"), cg), sw).rates.front();
  EXPECT_EQ(b.mean_latency_s, 24.9532958509002);
  EXPECT_EQ(b.mean_online_s, 24.653288967489072);
  EXPECT_EQ(b.p50_latency_s, 24.68772773091332);
}

TEST(MultiClient, ClientArrivalStreamsAreDistinctAndIndependentOfTheClientCount) {
  const auto a0 = poisson_arrival_times(0.5, 7, 0, 1000);
  const auto a1 = poisson_arrival_times(0.5, 7, 1, 1000);
  EXPECT_NE(a0, a1);
  EXPECT_TRUE(std::is_sorted(a1.begin(), a1.end()));
  EXPECT_LT(a1.back(), 1000.0);
  // Client 1 sees the same arrivals whether the run has 2 or 5 clients.
  ProtocolCosts costs = synthetic_costs(0.0, 0.01, 1, 1);
  SystemConfig cfg;
  cfg.client_storage_bytes = 1000;
  cfg.server_storage_bytes = 1'000'000;
  cfg.sim_hours = 1000.0 / 3600.0;
  cfg.drain = true;
  for (uint32_t k : {2u, 5u}) {
    cfg.clients = k;
    const MultiClientResult r = simulate_clients(costs, cfg, 0.5, 7);
    std::vector<double> seen;
    for (const RequestRecord& q : r.requests) {
      if (q.client == 1) seen.push_back(q.arrival_s);
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, a1) << k << " clients";
  }
  EXPECT_THROW((void)poisson_arrival_times(0.0, 1, 0, 10), InvalidArgument);
  EXPECT_THROW((void)poisson_arrival_times(1.0, 1, 0, -1), InvalidArgument);
}

// K clients share one server core by processor sharing; each request is one server step of
// D seconds at one thread, offline is free and storage ample. With many clients, each rarely
// has two requests outstanding, so the server is M/G/1-PS with arrival rate K lambda, whose
// mean sojourn time is D / (1 - rho), rho = K lambda D, whatever the service distribution.
double ps_sojourn(uint32_t k, double rho, double hours) {
  const double d = 1.0;
  SystemConfig cfg;
  cfg.mode = SimMode::contended;
  cfg.clients = k;
  cfg.server_cores = 1;
  cfg.server_gc_threads = 1;
  cfg.client_storage_bytes = 1000;
  cfg.server_storage_bytes = 1000ULL * k;
  cfg.sim_hours = hours;
  const ModelPlan plan = plan_model(synthetic_costs(0.0, d, 1, 1), cfg);
  const RunResult r = simulate_run(plan, rho / (k * d), 5);
  return r.mean_online_s;
}

TEST(MultiClient, SharedServerCpuIsProcessorSharingWithTheMG1PSMeanSojourn) {
  // 500 clients: the chance that a client's next request arrives while its previous one is in
  // the server is lambda * D / (1 - rho) = 0.2%, a bias far below the 3% tolerance.
  // ~170k requests at rho = 0.5 (standard error about 0.5%).
  EXPECT_NEAR(ps_sojourn(500, 0.5, 95.0), 2.0, 0.03 * 2.0);
  // ~50k requests at rho = 0.7.
  EXPECT_NEAR(ps_sojourn(500, 0.7, 20.0), 1.0 / 0.3, 0.05 / 0.3);
}

// The same closed form on the server's downlink: each request downloads B bytes, the server
// link carries C bytes/s for everyone, each client's access link is 10 x faster (never the
// bottleneck), so the server link is M/G/1-PS with D = B / C.
TEST(MultiClient, SharedServerLinkIsProcessorSharingWithTheMG1PSMeanSojourn) {
  ProtocolCosts c = synthetic_costs(0.0, 0.0, 1, 1);
  c.online = {CostStep::transfer("download", Party::server, 1.25e6)};  // 1 s at 10 Mbit/s
  const uint32_t k = 400;
  SystemConfig cfg;
  cfg.mode = SimMode::contended;
  cfg.clients = k;
  cfg.downlink_mbps = 100;
  cfg.server_downlink_mbps = 10;
  cfg.client_storage_bytes = 1000;
  cfg.server_storage_bytes = 1000ULL * k;
  cfg.sim_hours = 60;
  const RunResult r = simulate_run(plan_model(c, cfg), 0.5 / k, 6);
  EXPECT_NEAR(r.mean_online_s, 2.0, 0.03 * 2.0);
  // Unmodelled (0), the server link is no bottleneck: every download takes its access time.
  cfg.server_downlink_mbps = 0;
  cfg.sim_hours = 1;
  const RunResult free = simulate_run(plan_model(c, cfg), 0.5 / k, 6);
  EXPECT_NEAR(free.mean_online_s, 0.1, 1e-9);
}

TEST(MultiClient, QuotasAndTheServerTotalAreNeverExceeded) {
  const ProtocolCosts costs = synthetic_costs(5.0, 2.0, 100, 100);
  SystemConfig cfg;
  cfg.clients = 4;
  cfg.client_storage_bytes = 1000;
  cfg.server_storage_bytes = 1000;  // default quota 250: two precomputes per client
  cfg.sim_hours = 5;
  const RunResult r = simulate_clients(costs, cfg, 0.002, 3).run;
  ASSERT_EQ(r.clients.size(), 4u);
  for (const RunStats& c : r.clients) {
    EXPECT_LE(c.server_peak_bytes, 250u);
    EXPECT_EQ(c.server_peak_bytes, 200u);  // strict room rule: 250 - 200 is not > 100
    EXPECT_LE(c.client_peak_bytes, 1000u);
  }
  // Overcommitted quotas (4 x 600 > 1000): the total binds, never the quota alone.
  cfg.server_quota_per_client_bytes = 600;
  const RunResult o = simulate_clients(costs, cfg, 0.002, 3).run;
  EXPECT_LE(o.server_total_peak_bytes, 1000u);
  EXPECT_GE(o.server_total_peak_bytes, 800u);
  for (const RunStats& c : o.clients) EXPECT_LE(c.server_peak_bytes, 600u);
  const ModelPlan plan = plan_model(costs, cfg);
  EXPECT_TRUE(plan.server_total_binds);
  EXPECT_EQ(plan.server_quota_bytes, 600u);
}

// Each offline phase's recorded duration: the plan's when nothing contends (independent
// mode), never shorter than it when three clients share the server (contended mode), and longer
// for some phase there (they do overlap at this rate).
TEST(MultiClient, OfflinePhaseDurationsAreRecordedPerPrecompute) {
  SystemConfig cfg = rich_config(SimMode::independent);
  const MultiClientResult alone = simulate_clients(rich_costs(), cfg, 0.004, 11);
  ASSERT_EQ(alone.run.produced_phase_s.size(), alone.run.produced_ids.size());
  ASSERT_FALSE(alone.run.produced_phase_s.empty());
  for (const double s : alone.run.produced_phase_s) {
    EXPECT_NEAR(s, alone.plan.offline.seconds, 1e-9);
  }
  cfg = rich_config(SimMode::contended);
  cfg.clients = 3;
  const MultiClientResult shared = simulate_clients(rich_costs(), cfg, 0.004, 11);
  ASSERT_EQ(shared.run.produced_phase_s.size(), shared.run.produced_ids.size());
  double longest = 0;
  for (const double s : shared.run.produced_phase_s) {
    EXPECT_GE(s, shared.plan.offline.seconds - 1e-9);
    longest = std::max(longest, s);
  }
  EXPECT_GT(longest, shared.plan.offline.seconds * 1.01);
}

TEST(MultiClient, EachPrecomputeIsConsumedOnceByTheClientThatMadeIt) {
  for (SimMode mode : {SimMode::independent, SimMode::contended}) {
    SystemConfig cfg = rich_config(mode);
    cfg.clients = 3;
    cfg.server_quota_per_client_bytes = 700;
    cfg.server_storage_bytes = 1500;  // overcommitted: clients wait on each other
    const MultiClientResult r = simulate_clients(rich_costs(), cfg, 0.004, 11);
    const RunResult& run = r.run;
    ASSERT_EQ(run.produced_ids.size(), run.produced_by.size());
    std::map<int64_t, uint32_t> maker;
    for (std::size_t i = 0; i < run.produced_ids.size(); ++i) {
      ASSERT_TRUE(maker.emplace(run.produced_ids[i], run.produced_by[i]).second);
    }
    std::set<int64_t> used;
    for (const RequestRecord& q : r.requests) {
      ASSERT_GE(q.precompute_id, 0);
      EXPECT_TRUE(used.insert(q.precompute_id).second) << "precompute used twice";
      EXPECT_EQ(maker.at(q.precompute_id), q.client);
    }
    uint64_t made = 0, consumed = 0;
    for (const RunStats& c : run.clients) {
      EXPECT_LE(c.precomputes_used, c.precomputes_made);
      made += c.precomputes_made;
      consumed += c.precomputes_used;
    }
    EXPECT_EQ(made, run.precomputes_made);
    EXPECT_EQ(consumed, run.precomputes_used);
    EXPECT_GT(consumed, 50u);
  }
}

TEST(MultiClient, DrainCompletesEveryArrivalAndFiguresCoverThemAll) {
  SystemConfig cfg = rich_config(SimMode::contended);
  cfg.clients = 3;
  cfg.sim_hours = 2;
  cfg.drain = true;
  const double rate = 0.05;  // near saturation: a backlog is left at the horizon
  const MultiClientResult r = simulate_clients(rich_costs(), cfg, rate, 4);
  EXPECT_GT(r.run.in_system_at_end, 0u);
  EXPECT_EQ(r.run.served, r.run.arrivals);
  EXPECT_EQ(r.requests.size(), r.run.arrivals);
  EXPECT_GT(r.run.end_s, 7200.0);
  EXPECT_LT(r.run.end_s, 72000.0);
  double last = 0;
  for (const RequestRecord& q : r.requests) last = std::max(last, q.end_s);
  EXPECT_EQ(r.run.end_s, last);
  for (uint32_t c = 0; c < 3; ++c) {
    EXPECT_EQ(r.run.clients[c].arrivals, poisson_arrival_times(rate, 4, c, 7200.0).size());
    EXPECT_EQ(r.run.clients[c].served, r.run.clients[c].arrivals);
  }
  // Without drain the same run stops at the horizon with requests unfinished.
  cfg.drain = false;
  const MultiClientResult h = simulate_clients(rich_costs(), cfg, rate, 4);
  EXPECT_EQ(h.run.arrivals, r.run.arrivals);
  EXPECT_LT(h.run.served, h.run.arrivals);
  EXPECT_EQ(h.run.end_s, 7200.0);
}

// One client: online = client compute 1 s and server compute 1 s started together.
ProtocolCosts overlapping_online() {
  ProtocolCosts c = synthetic_costs(0.0, 1.0, 1, 1);
  c.online.insert(c.online.begin(),
                  CostStep::compute("client part", Party::client, Category::other, 1.0));
  c.online.back().overlaps_previous = true;
  return c;
}

std::vector<double> online_times(const SystemConfig& cfg) {
  const MultiClientResult r = simulate_clients(overlapping_online(), cfg, 0.001, 8);
  std::vector<double> t;
  for (const RequestRecord& q : r.requests) t.push_back(q.end_s - q.start_s - q.offline_wait_s);
  EXPECT_GT(t.size(), 10u);
  return t;
}

TEST(MultiClient, SharedCorePoolMakesPartiesSlowEachOther) {
  SystemConfig cfg;
  cfg.mode = SimMode::contended;
  cfg.client_storage_bytes = 1000;
  cfg.sim_hours = 10;
  // Own cores: the two one-thread steps run side by side, 1 s.
  for (double t : online_times(cfg)) EXPECT_NEAR(t, 1.0, 1e-9);
  // One shared core: each gets half of it, both end at 2 s.
  cfg.shared_cores = 1;
  for (double t : online_times(cfg)) EXPECT_NEAR(t, 2.0, 1e-9);
  // Two shared cores: room for both, 1 s again.
  cfg.shared_cores = 2;
  for (double t : online_times(cfg)) EXPECT_NEAR(t, 1.0, 1e-9);
}

TEST(MultiClient, OverlappingStepsTakeTheLongestOfTheGroupInBothModes) {
  ProtocolCosts c;
  c.offline.push_back(CostStep::compute("a", Party::client, Category::other, 1.0));
  c.online.push_back(CostStep::compute("b", Party::client, Category::other, 2.0));
  c.online.push_back(CostStep::transfer("c", Party::server, 62.5e6 * 3));  // 3 s at 500 Mbit/s
  c.online.back().overlaps_previous = true;
  c.online.push_back(CostStep::compute("d", Party::server, Category::other, 1.5));
  c.online.back().overlaps_previous = true;
  c.online.push_back(CostStep::compute("e", Party::server, Category::other, 0.25));
  c.client_storage_bytes = c.server_storage_bytes = 1;
  SystemConfig cfg;
  cfg.client_storage_bytes = 100;
  cfg.sim_hours = 10;
  const ModelPlan plan = plan_model(c, cfg);
  EXPECT_DOUBLE_EQ(plan.online.seconds, 3.25);  // max(2, 3, 1.5) + 0.25
  EXPECT_DOUBLE_EQ(plan.offline.seconds, 1.0);
  for (SimMode mode : {SimMode::independent, SimMode::contended}) {
    cfg.mode = mode;
    const MultiClientResult r = simulate_clients(c, cfg, 0.001, 2);
    ASSERT_GT(r.requests.size(), 10u);
    for (const RequestRecord& q : r.requests) {
      EXPECT_NEAR(q.end_s - q.start_s - q.offline_wait_s, 3.25, 1e-9) << to_string(mode);
    }
  }
}

// A group of two lanes: a chain (client compute 1 s, then 2 s on the uplink) beside a server
// step of 2.5 s. The group lasts the longest lane, 3 s, in both modes; the chained transfer
// starts only when the compute before it ends, so a shared core slows the chain's first step.
ProtocolCosts laned_online() {
  ProtocolCosts c;
  // (offline on the downlink only, so it never competes with the online steps)
  c.offline.push_back(CostStep::transfer("a", Party::server, 1000.0));
  c.online.push_back(CostStep::compute("chain: compute", Party::client, Category::other, 1.0));
  c.online.push_back(CostStep::transfer("chain: send", Party::client, 62.5e6 * 2));  // 2 s
  c.online.back().follows_previous = true;
  c.online.push_back(CostStep::compute("beside", Party::server, Category::other, 2.5));
  c.online.back().overlaps_previous = true;
  c.online.push_back(CostStep::compute("after", Party::server, Category::other, 0.25));
  c.client_storage_bytes = c.server_storage_bytes = 1;
  return c;
}

TEST(MultiClient, ChainedStepsInAGroupRunOneAfterTheOther) {
  SystemConfig cfg;
  cfg.client_storage_bytes = 100;
  cfg.sim_hours = 10;
  cfg.uplink_mbps = 500;
  const ModelPlan plan = plan_model(laned_online(), cfg);
  EXPECT_DOUBLE_EQ(plan.online.seconds, 3.25);  // max(1 + 2, 2.5) + 0.25
  for (SimMode mode : {SimMode::independent, SimMode::contended}) {
    cfg.mode = mode;
    const MultiClientResult r = simulate_clients(laned_online(), cfg, 0.001, 2);
    ASSERT_GT(r.requests.size(), 10u);
    for (const RequestRecord& q : r.requests) {
      EXPECT_NEAR(q.end_s - q.start_s - q.offline_wait_s, 3.25, 1e-9) << to_string(mode);
    }
  }
  // One shared core: the chain's compute and the server step split it for 2 s (each gets 1 s
  // of work done), then the transfer runs 2 s beside the server's last 1.5 s: 4 s, then 0.25 s.
  cfg.mode = SimMode::contended;
  cfg.shared_cores = 1;
  const MultiClientResult r = simulate_clients(laned_online(), cfg, 0.001, 2);
  ASSERT_GT(r.requests.size(), 10u);
  for (const RequestRecord& q : r.requests) {
    EXPECT_NEAR(q.end_s - q.start_s - q.offline_wait_s, 4.25, 1e-9);
  }
}

// Brute-force processor sharing with caps (water filling over every job at every event).
std::vector<double> reference_finish(double capacity, const std::vector<double>& start,
                                     const std::vector<double>& work,
                                     const std::vector<double>& cap) {
  const std::size_t n = start.size();
  std::vector<double> left = work, finish(n, -1), rate(n);
  double now = 0;
  while (true) {
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < n; ++i) {
      if (start[i] <= now && finish[i] < 0) active.push_back(i);
    }
    double next_start = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < n; ++i) {
      if (start[i] > now) next_start = std::min(next_start, start[i]);
    }
    if (active.empty() && std::isinf(next_start)) break;
    std::sort(active.begin(), active.end(), [&](auto a, auto b) { return cap[a] < cap[b]; });
    double rem = capacity;
    std::size_t k = active.size();
    double dt = next_start - now;
    for (std::size_t i : active) {
      rate[i] = std::min(cap[i], rem / static_cast<double>(k--));
      rem -= rate[i];
      dt = std::min(dt, left[i] / rate[i]);
    }
    for (std::size_t i : active) {
      left[i] -= rate[i] * dt;
      if (left[i] <= 1e-9 * rate[i]) finish[i] = now + dt;
    }
    now += dt;
  }
  return finish;
}

Task timed_job(Engine& e, SharedResource& r, double start, double work, double cap, double& end) {
  co_await e.until(start);
  co_await r.use(work, cap);
  end = e.now();
}

TEST(MultiClient, SharedResourceMatchesBruteForceProcessorSharing) {
  std::mt19937_64 gen(12);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t n = 60;
    std::vector<double> start(n), work(n), cap(n), end(n);
    for (std::size_t i = 0; i < n; ++i) {
      start[i] = 50.0 * u(gen);
      work[i] = 0.1 + 10.0 * u(gen);
      const double caps[] = {1.0, 1.0, 2.0, 8.0};
      cap[i] = caps[static_cast<std::size_t>(4 * u(gen)) % 4];
    }
    const auto ref = reference_finish(4.0, start, work, cap);
    for (auto algorithm :
         {SharedResource::Algorithm::by_class, SharedResource::Algorithm::per_job}) {
      Engine e;
      SharedResource cpu(e, 4.0, algorithm);
      for (std::size_t i = 0; i < n; ++i)
        e.spawn(timed_job(e, cpu, start[i], work[i], cap[i], end[i]));
      e.run_until(1e6);
      for (std::size_t i = 0; i < n; ++i) ASSERT_NEAR(end[i], ref[i], 1e-6) << trial << "/" << i;
      EXPECT_NEAR(cpu.served_work(), std::accumulate(work.begin(), work.end(), 0.0), 1e-6);
    }
  }
}

Task job_on(Engine& e, SharedResource& r, double work, double cap, double& end) {
  co_await r.use(work, cap);
  end = e.now();
}

Task grouped_job(Engine& e, SharedResource& r, double work, double cap, SharedResource::GroupId g,
                 double& end) {
  co_await r.use(work, cap, g);
  end = e.now();
}

TEST(MultiClient, GroupedJobsShareTheirAccessLinkAndTheServerLink) {
  Engine e;
  SharedResource server(e, 10.0);
  const auto access = server.add_group(4.0);
  double a = 0, b = 0, c = 0;
  // a and b share a 4/s access link (2/s each); c takes the other 6/s of the server link.
  e.spawn(grouped_job(e, server, 4.0, 4.0, access, a));
  e.spawn(grouped_job(e, server, 8.0, 4.0, access, b));
  e.spawn(job_on(e, server, 12.0, 100.0, c));
  e.run_until(100);
  // t=2: a done (4 at 2/s), c has 12-12 = 0 -> c done at 2 as well; b has 4 left, alone on
  // its access link at 4/s -> done at 3.
  EXPECT_NEAR(a, 2.0, 1e-9);
  EXPECT_NEAR(c, 2.0, 1e-9);
  EXPECT_NEAR(b, 3.0, 1e-9);
}

TEST(CapacityPlan, FoundCountMeetsTheTargetAndOneMoreDoesNot) {
  // M/G/1-PS on one server core: mean sojourn D / (1 - K lambda D) <= 2 s for K <= 50.
  SystemConfig cfg;
  cfg.mode = SimMode::contended;
  cfg.server_cores = 1;
  cfg.server_gc_threads = 1;
  cfg.client_storage_bytes = 1000;
  cfg.sim_hours = 3;
  const ProtocolCosts costs = synthetic_costs(0.0, 1.0, 1, 1);
  CapacityPlanOptions opt;
  opt.rate_per_client = 0.01;
  opt.target_s = 2.0;
  opt.runs = 2;
  opt.fleet_clients = 1000;
  const CapacityPlan p = plan_capacity(costs, cfg, opt);
  const uint32_t k = p.max_clients_per_server;
  EXPECT_GE(k, 40u);
  EXPECT_LE(k, 60u);
  ASSERT_TRUE(p.at_max && p.above_max);
  EXPECT_TRUE(p.at_max->meets);
  EXPECT_FALSE(p.above_max->meets);
  EXPECT_EQ(p.above_max->clients, k + 1);
  EXPECT_LE(p.at_max->latency_s, 2.0);
  EXPECT_GT(p.above_max->latency_s, 2.0);
  // Independently re-simulated, K meets the target and K + 1 does not.
  for (uint32_t kk : {k, k + 1}) {
    SystemConfig c = cfg;
    c.clients = kk;
    SweepOptions sw;
    sw.rates = {0.01};
    sw.runs = 2;
    sw.seed = 1;
    const RateSummary s = run_sweep(plan_model(costs, c), sw).rates.front();
    EXPECT_EQ(s.mean_latency_s <= 2.0, kk == k);
  }
  EXPECT_EQ(p.servers, (1000 + k - 1) / k);
  EXPECT_LE(p.clients_per_server, k);
  EXPECT_EQ(p.fleet_server_storage_bytes, p.servers * p.server_storage_per_server_bytes);
  ASSERT_TRUE(p.fleet_point);
  EXPECT_TRUE(p.fleet_point->meets);
}

TEST(MultiClient, BadSettingsNameTheField) {
  const ProtocolCosts costs = synthetic_costs(1.0, 1.0, 10, 10);
  const auto plan_error = [&](auto edit) {
    SystemConfig c;
    edit(c);
    return message_of<InvalidArgument>([&] { (void)plan_model(costs, c); });
  };
  EXPECT_NE(plan_error([](SystemConfig& c) { c.clients = 0; }).find("clients"), std::string::npos);
  EXPECT_NE(
      plan_error([](SystemConfig& c) { c.server_uplink_mbps = -1; }).find("server_uplink_mbps"),
      std::string::npos);
  EXPECT_NE(plan_error([](SystemConfig& c) {
              c.server_downlink_mbps = std::nan("");
            }).find("server_downlink_mbps"),
            std::string::npos);
  EXPECT_NE(plan_error([](SystemConfig& c) {
              c.shared_cores = 4;
              c.client_cores = 2;
            }).find("client_cores"),
            std::string::npos);
  EXPECT_NE(plan_error([](SystemConfig& c) { c.shared_cores = 5000; }).find("shared_cores"),
            std::string::npos);
  EXPECT_NE(plan_error([](SystemConfig& c) {
              c.server_quota_per_client_bytes = c.server_storage_bytes + 1;
            }).find("server_quota_per_client"),
            std::string::npos);
  // 10 B per precompute cannot fit into 100 B / 20 clients.
  EXPECT_NE(plan_error([](SystemConfig& c) {
              c.server_storage_bytes = 100;
              c.clients = 20;
            }).find("server_quota_per_client"),
            std::string::npos);

  // Scenario settings.
  nlohmann::json sc = {{"format", "pinfer-sim-scenario"},
                       {"version", 1},
                       {"name", "x"},
                       {"defaults", {{"rates", "0.1:0.2:2"}, {"clients", 0}}}};
  EXPECT_NE(message_of<FormatError>([&] { (void)parse_scenario(sc); }).find("defaults.clients"),
            std::string::npos);
  sc["defaults"]["clients"] = 3;
  sc["defaults"]["drain"] = "yes";
  EXPECT_NE(message_of<FormatError>([&] { (void)parse_scenario(sc); }).find("defaults.drain"),
            std::string::npos);
  sc["defaults"]["drain"] = true;
  sc["defaults"]["server_quota_per_client"] = "2GB";
  sc["defaults"]["shared_cores"] = 2;
  sc["defaults"]["server_downlink_mbps"] = 1000;
  const Scenario ok = parse_scenario(sc);
  EXPECT_EQ(ok.series[0].config.clients, 3u);
  EXPECT_TRUE(ok.series[0].config.drain);
  EXPECT_EQ(ok.series[0].config.server_quota_per_client_bytes, 2'000'000'000u);
  EXPECT_EQ(ok.series[0].config.shared_cores, 2u);
  EXPECT_EQ(ok.series[0].config.server_downlink_mbps, 1000.0);

  // Capacity-plan options.
  CapacityPlanOptions opt;
  opt.rate_per_client = 0.1;
  opt.target_s = 0;
  EXPECT_NE(message_of<InvalidArgument>([&] {
              (void)plan_capacity(costs, SystemConfig{}, opt);
            }).find("target"),
            std::string::npos);
  opt.target_s = 1;
  opt.rate_per_client = -1;
  EXPECT_NE(message_of<InvalidArgument>([&] {
              (void)plan_capacity(costs, SystemConfig{}, opt);
            }).find("rate"),
            std::string::npos);
}

TEST(CostProfileOverlap, FirstStepMayNotOverlapAndFlagRoundTrips) {
  CostProfile p;
  p.name = "overlap";
  p.dataset = "test";
  p.network = "test";
  p.relu_count = 1;
  p.source = {"measured", "test", "test"};
  ProtocolCosts& c = p.protocols["server-garbler"];
  c = overlapping_online();
  const nlohmann::json j = to_json(p);
  const nlohmann::json& online = j["protocols"]["server-garbler"]["online"];
  EXPECT_FALSE(online[0].contains("overlaps_previous"));  // omitted when false
  EXPECT_EQ(online[1]["overlaps_previous"], true);
  EXPECT_TRUE(cost_profile_from_json(j).protocol("server-garbler").online[1].overlaps_previous);
  c.online[0].overlaps_previous = true;
  EXPECT_NE(message_of<InvalidArgument>([&] {
              validate(p);
            }).find("protocols.server-garbler.online[0].overlaps_previous"),
            std::string::npos);
  nlohmann::json bad = j;
  bad["protocols"]["server-garbler"]["online"][1]["overlaps_previous"] = 1;
  EXPECT_NE(message_of<FormatError>([&] {
              (void)cost_profile_from_json(bad);
            }).find("online[1].overlaps_previous"),
            std::string::npos);
}

TEST(CostProfileOverlap, FollowsPreviousRoundTripsAndIsRefusedFirstOrWithOverlap) {
  CostProfile p;
  p.name = "lanes";
  p.dataset = "test";
  p.network = "test";
  p.relu_count = 1;
  p.source = {"measured", "test", "test"};
  p.protocols["client-garbler"] = laned_online();
  const nlohmann::json j = to_json(p);
  const nlohmann::json& online = j["protocols"]["client-garbler"]["online"];
  EXPECT_FALSE(online[0].contains("follows_previous"));
  EXPECT_EQ(online[1]["follows_previous"], true);
  EXPECT_TRUE(cost_profile_from_json(j).protocol("client-garbler").online[1].follows_previous);
  nlohmann::json bad = j;
  bad["protocols"]["client-garbler"]["online"][0]["follows_previous"] = true;
  EXPECT_NE(message_of<FormatError>([&] {
              (void)cost_profile_from_json(bad);
            }).find("online[0].follows_previous"),
            std::string::npos);
  bad = j;
  bad["protocols"]["client-garbler"]["online"][1]["overlaps_previous"] = true;
  EXPECT_NE(message_of<FormatError>([&] { (void)cost_profile_from_json(bad); }).find("not both"),
            std::string::npos);
}

}  // namespace
}  // namespace pinfer::sim
