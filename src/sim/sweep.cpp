#include "pinfer/sim/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include "pinfer/core/error.hpp"
#include "pinfer/sim/random.hpp"

namespace pinfer::sim {
namespace {

constexpr uint32_t kMaxRuns = 1u << 20;

}  // namespace

RateSummary summarize_runs(double rate, double horizon_s, uint32_t clients,
                           const std::vector<const RunStats*>& runs) {
  RateSummary s;
  s.rate = rate;
  s.client_count = clients;
  s.runs = static_cast<uint32_t>(runs.size());
  for (const RunStats* r : runs) {
    s.arrivals += static_cast<double>(r->arrivals);
    s.served += static_cast<double>(r->served);
    s.backlog_at_end += static_cast<double>(r->backlog_at_end);
    s.backlog_growth +=
        static_cast<double>(r->in_system_at_end) - static_cast<double>(r->in_system_at_half);
    if (r->served == 0) continue;
    ++s.runs_with_completions;
    s.mean_latency_s += r->mean_latency_s;
    s.p50_latency_s += r->p50_latency_s;
    s.p95_latency_s += r->p95_latency_s;
    s.p99_latency_s += r->p99_latency_s;
    s.mean_queue_s += r->mean_queue_s;
    s.mean_offline_wait_s += r->mean_offline_wait_s;
    s.mean_online_s += r->mean_online_s;
  }
  const double n = static_cast<double>(runs.size());
  if (n > 0) {
    s.arrivals /= n;
    s.served /= n;
    s.backlog_at_end /= n;
    s.backlog_growth /= n;
  }
  const double done = s.runs_with_completions;
  const double nan = std::nan("");
  for (double* v : {&s.mean_latency_s, &s.p50_latency_s, &s.p95_latency_s, &s.p99_latency_s,
                    &s.mean_queue_s, &s.mean_offline_wait_s, &s.mean_online_s}) {
    *v = done > 0 ? *v / done : nan;
  }
  const double expected_second_half = rate * clients * horizon_s / 2.0;
  s.stable = s.backlog_growth <= 1.0 + 0.05 * expected_second_half;
  return s;
}

SweepResult run_sweep(const ModelPlan& plan, const SweepOptions& options) {
  if (options.rates.empty()) throw InvalidArgument("rates: at least one arrival rate is needed");
  if (options.runs == 0 || options.runs >= kMaxRuns) {
    throw InvalidArgument("runs = " + std::to_string(options.runs) + " must be in [1, " +
                          std::to_string(kMaxRuns - 1) + "]");
  }
  for (double r : options.rates) {
    if (!(r > 0.0) || !std::isfinite(r)) {
      throw InvalidArgument("rates: arrival rate " + std::to_string(r) + " must be > 0");
    }
  }
  const std::size_t n_rates = options.rates.size();
  const std::size_t n_jobs = n_rates * options.runs;
  std::vector<RunResult> results(n_jobs);

  unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  threads = static_cast<unsigned>(std::clamp<std::size_t>(threads, 1, n_jobs));
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  const auto worker = [&] {
    while (true) {
      const std::size_t job = next.fetch_add(1);
      if (job >= n_jobs) return;
      const std::size_t ri = job / options.runs;
      const std::size_t run = job % options.runs;
      try {
        const uint64_t seed = mix_seed(options.seed, (uint64_t{ri} << 20) + run);
        results[job] = simulate_run(plan, options.rates[ri], seed);
        results[job].trace.clear();
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next.store(n_jobs);
        return;
      }
    }
  };
  if (threads == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (failure) std::rethrow_exception(failure);

  SweepResult out;
  out.rates.reserve(n_rates);
  std::vector<const RunStats*> runs(options.runs);
  for (std::size_t ri = 0; ri < n_rates; ++ri) {
    for (uint32_t run = 0; run < options.runs; ++run) runs[run] = &results[ri * options.runs + run];
    RateSummary s = summarize_runs(options.rates[ri], plan.horizon_s, plan.clients, runs);
    for (uint32_t run = 0; run < options.runs; ++run)
      s.events += results[ri * options.runs + run].events;
    if (plan.clients > 1) {
      s.clients.reserve(plan.clients);
      for (uint32_t c = 0; c < plan.clients; ++c) {
        for (uint32_t run = 0; run < options.runs; ++run) {
          runs[run] = &results[ri * options.runs + run].clients[c];
        }
        s.clients.push_back(summarize_runs(options.rates[ri], plan.horizon_s, 1, runs));
      }
    }
    out.rates.push_back(std::move(s));
  }
  // Rates may be given in any order: walk them by increasing rate.
  std::vector<const RateSummary*> by_rate;
  for (const RateSummary& s : out.rates) by_rate.push_back(&s);
  std::stable_sort(by_rate.begin(), by_rate.end(),
                   [](const RateSummary* a, const RateSummary* b) { return a->rate < b->rate; });
  for (const RateSummary* s : by_rate) {
    if (!s->stable) break;
    out.highest_stable_rate = s->rate;
  }
  return out;
}

}  // namespace pinfer::sim
