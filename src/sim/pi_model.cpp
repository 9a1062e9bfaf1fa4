#include "pinfer/sim/pi_model.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <sstream>

#include "pinfer/core/error.hpp"
#include "pinfer/sim/container.hpp"
#include "pinfer/sim/engine.hpp"
#include "pinfer/sim/fifo_queue.hpp"
#include "pinfer/sim/random.hpp"
#include "pinfer/sim/shared_resource.hpp"
#include "pinfer/sim/signal.hpp"

namespace pinfer::sim {
namespace {

constexpr double kMaxExpectedArrivals = 5e7;

double bytes_per_s(double mbps) {
  return mbps * 1e6 / 8.0;
}

uint32_t pool_threads(ThreadPool pool, const SystemConfig& c) {
  switch (pool) {
    case ThreadPool::none:
      return 1;
    case ThreadPool::client:
      return c.client_threads;
    case ThreadPool::server_gc:
      return c.server_gc_threads;
    case ThreadPool::server_he:
      return c.server_he_threads;
  }
  return 1;
}

// Seconds of a compute step with k threads, before speed-up factors.
double scaled_compute_seconds(const CostStep& s, uint32_t k, HeModel he_model) {
  switch (s.scaling) {
    case Scaling::none:
      return s.seconds;
    case Scaling::linear:
      return s.seconds / k;
    case Scaling::table:
      if (he_model == HeModel::lpt && !s.per_layer_seconds.empty()) {
        return lpt_makespan(s.per_layer_seconds, k);
      }
      if (k <= s.seconds_by_threads.size()) return s.seconds_by_threads[k - 1];
      if (!s.per_layer_seconds.empty()) return lpt_makespan(s.per_layer_seconds, k);
      return s.seconds_by_threads.back();
    case Scaling::layer_parallel:
      return lpt_makespan(s.per_layer_seconds, k);
  }
  return s.seconds;
}

PhasePlan plan_phase(const std::vector<CostStep>& steps, const SystemConfig& c) {
  PhasePlan phase;
  phase.steps.reserve(steps.size());
  for (const CostStep& s : steps) {
    PlannedStep p;
    p.label = s.label;
    p.category = s.category;
    p.seconds = step_seconds(s, c);
    if (s.kind == StepKind::compute) {
      p.resource = s.party == Party::client ? ResourceId::client_cpu : ResourceId::server_cpu;
      // A step using k threads occupies k cores; squeezed below k it slows proportionally.
      const double k = s.scaling == Scaling::none ? 1.0 : pool_threads(s.threads, c);
      p.max_rate = k;
      p.work = p.seconds * k;
    } else {
      const bool up = s.direction == Direction::up;
      p.resource = up ? ResourceId::uplink : ResourceId::downlink;
      p.max_rate = bytes_per_s(up ? c.uplink_mbps : c.downlink_mbps) * c.bandwidth_speedup;
      p.work = s.bytes;
    }
    phase.seconds += p.seconds;
    phase.steps.push_back(std::move(p));
  }
  return phase;
}

// --- one run -------------------------------------------------------------------------------

struct Request {
  double arrival_s;
};

class PiSystem {
 public:
  PiSystem(const ModelPlan& plan, double rate, uint64_t seed, const RunOptions& options)
      : plan_(plan),
        rate_(rate),
        options_(options),
        rng_(seed),
        queue_(engine_),
        client_store_(engine_, plan.client_capacity_bytes),
        server_store_(engine_, plan.server_capacity_bytes),
        consumed_(engine_),
        client_cpu_(engine_, plan.client_cores),
        server_cpu_(engine_, plan.server_cores),
        uplink_(engine_, plan.uplink_bytes_per_s),
        downlink_(engine_, plan.downlink_bytes_per_s) {}

  RunResult run() {
    engine_.spawn(arrivals());
    engine_.spawn(online_server());
    if (plan_.precompute_fits) engine_.spawn(precompute_process());
    engine_.spawn(half_time_monitor());
    result_.events = engine_.run_until(plan_.horizon_s);
    result_.backlog_at_end = queue_.size();
    result_.in_system_at_end = result_.arrivals - result_.served;
    result_.client_peak_bytes = client_store_.peak_level();
    result_.server_peak_bytes = server_store_.peak_level();
    finish_stats();
    return std::move(result_);
  }

 private:
  SharedResource& resource(ResourceId id) {
    switch (id) {
      case ResourceId::client_cpu:
        return client_cpu_;
      case ResourceId::server_cpu:
        return server_cpu_;
      case ResourceId::uplink:
        return uplink_;
      case ResourceId::downlink:
        return downlink_;
    }
    return client_cpu_;
  }

  Task run_phase(const PhasePlan& phase) {
    if (plan_.mode == SimMode::independent) {
      // No contention: the phase takes the sum of its step durations, as the published model's
      // sequence of timeouts does.
      co_await engine_.timeout(phase.seconds);
      co_return;
    }
    for (const PlannedStep& s : phase.steps) {
      co_await resource(s.resource).use(s.work, s.max_rate);
    }
  }

  Task arrivals() {
    while (true) {
      co_await engine_.timeout(rng_.exponential(rate_));
      ++result_.arrivals;
      queue_.put(Request{engine_.now()});
    }
  }

  Task half_time_monitor() {
    co_await engine_.until(plan_.horizon_s / 2);
    result_.in_system_at_half = result_.arrivals - result_.served;
  }

  bool room_for_one_more() const {
    // Published condition: free space strictly exceeds one precompute on both sides.
    return client_store_.free_space() > plan_.client_bytes_per_precompute &&
           server_store_.free_space() > plan_.server_bytes_per_precompute;
  }

  Task precompute_process() {
    const double poll = plan_.policy == PrecomputePolicy::poll ? plan_.poll_interval_s : 0.0;
    double last = engine_.now();  // the poll clock: ticks at last + poll after each wake-up
    while (true) {
      co_await engine_.until(last + poll);
      if (room_for_one_more()) {
        co_await run_phase(plan_.offline);
        const int64_t id = static_cast<int64_t>(result_.precomputes_made++);
        ids_.push_back(id);
        if (options_.keep_trace) result_.produced_ids.push_back(id);
        co_await client_store_.put(plan_.client_bytes_per_precompute);
        co_await server_store_.put(plan_.server_bytes_per_precompute);
        last = engine_.now();
        continue;
      }
      last = engine_.now();
      // Nothing but a consumption frees space, so sleep until one instead of waking every
      // second; then resume on the poll grid (the first tick at or after the consumption), which
      // gives the same tick times as polling every second.
      co_await consumed_.wait();
      if (poll > 0.0) {
        const double k = std::max(1.0, std::ceil((engine_.now() - last) / poll));
        last += (k - 1.0) * poll;
      } else {
        last = engine_.now();
      }
    }
  }

  Task online_server() {
    while (true) {
      const Request req = co_await queue_.get();
      RequestRecord rec;
      rec.arrival_s = req.arrival_s;
      rec.start_s = engine_.now();
      if (plan_.precompute_fits) {
        co_await client_store_.get(plan_.client_bytes_per_precompute);
        co_await server_store_.get(plan_.server_bytes_per_precompute);
        PINFER_ASSERT(!ids_.empty());
        rec.precompute_id = ids_.front();
        ids_.pop_front();
        ++result_.precomputes_used;
        consumed_.notify();
      } else {
        co_await run_phase(plan_.offline);
      }
      rec.offline_wait_s = engine_.now() - rec.start_s;
      co_await run_phase(plan_.online);
      rec.end_s = engine_.now();
      record(rec);
    }
  }

  void record(const RequestRecord& rec) {
    ++result_.served;
    const double latency = rec.end_s - rec.arrival_s;
    const double queue = rec.start_s - rec.arrival_s;
    sum_latency_ += latency;
    sum_queue_ += queue;
    sum_offline_ += rec.offline_wait_s;
    sum_online_ += rec.end_s - rec.start_s - rec.offline_wait_s;
    latencies_.push_back(latency);
    if (options_.keep_trace) result_.trace.push_back(rec);
  }

  void finish_stats() {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (result_.served == 0) {
      result_.mean_latency_s = result_.p50_latency_s = result_.p95_latency_s = nan;
      result_.p99_latency_s = result_.mean_queue_s = result_.mean_offline_wait_s = nan;
      result_.mean_online_s = nan;
      return;
    }
    const double n = static_cast<double>(result_.served);
    result_.mean_latency_s = sum_latency_ / n;
    result_.mean_queue_s = sum_queue_ / n;
    result_.mean_offline_wait_s = sum_offline_ / n;
    result_.mean_online_s = sum_online_ / n;
    std::sort(latencies_.begin(), latencies_.end());
    const auto pct = [&](double p) {
      const double pos = p * (n - 1);
      const auto lo = static_cast<std::size_t>(std::floor(pos));
      const auto hi = std::min(lo + 1, latencies_.size() - 1);
      return latencies_[lo] + (latencies_[hi] - latencies_[lo]) * (pos - std::floor(pos));
    };
    result_.p50_latency_s = pct(0.50);
    result_.p95_latency_s = pct(0.95);
    result_.p99_latency_s = pct(0.99);
  }

  const ModelPlan& plan_;
  double rate_;
  RunOptions options_;
  SimRandom rng_;
  Engine engine_;
  FifoQueue<Request> queue_;
  Container client_store_;
  Container server_store_;
  Signal consumed_;
  SharedResource client_cpu_;
  SharedResource server_cpu_;
  SharedResource uplink_;
  SharedResource downlink_;
  std::deque<int64_t> ids_;
  RunResult result_;
  double sum_latency_ = 0, sum_queue_ = 0, sum_offline_ = 0, sum_online_ = 0;
  std::vector<double> latencies_;
};

}  // namespace

double step_seconds(const CostStep& s, const SystemConfig& c) {
  if (s.kind == StepKind::transfer) {
    const double rate =
        bytes_per_s(s.direction == Direction::up ? c.uplink_mbps : c.downlink_mbps) *
        c.bandwidth_speedup;
    return s.bytes / rate;
  }
  double t = scaled_compute_seconds(s, pool_threads(s.threads, c), c.he_model);
  if (s.category == Category::he) t /= c.he_speedup;
  if (s.category == Category::gc) t /= c.gc_speedup;
  if (s.party == Party::client) t *= c.client_device_factor;
  return t;
}

ModelPlan plan_model(const ProtocolCosts& costs, const SystemConfig& c) {
  validate(c);
  ModelPlan plan;
  plan.offline = plan_phase(costs.offline, c);
  plan.online = plan_phase(costs.online, c);
  plan.client_bytes_per_precompute = costs.client_storage_bytes;
  plan.server_bytes_per_precompute = costs.server_storage_bytes;
  plan.client_capacity_bytes = c.client_storage_bytes;
  plan.server_capacity_bytes = c.server_storage_bytes;
  plan.precompute_fits = costs.client_storage_bytes < c.client_storage_bytes;
  if (plan.precompute_fits && costs.server_storage_bytes >= c.server_storage_bytes) {
    // The published model would start no precompute and leave every request waiting forever.
    throw InvalidArgument("server_storage " + std::to_string(c.server_storage_bytes) +
                          " B cannot hold one precompute of " +
                          std::to_string(costs.server_storage_bytes) + " B");
  }
  plan.mode = c.mode;
  plan.policy = c.policy;
  plan.poll_interval_s = c.poll_interval_s;
  plan.horizon_s = c.sim_hours * 3600.0;
  plan.uplink_bytes_per_s = bytes_per_s(c.uplink_mbps) * c.bandwidth_speedup;
  plan.downlink_bytes_per_s = bytes_per_s(c.downlink_mbps) * c.bandwidth_speedup;
  if (c.mode == SimMode::contended) {
    plan.client_cores = c.client_cores != 0 ? c.client_cores : c.client_threads;
    plan.server_cores =
        c.server_cores != 0 ? c.server_cores : std::max(c.server_gc_threads, c.server_he_threads);
  } else {
    // Phases never wait for each other: unlimited capacity.
    plan.client_cores = plan.server_cores = std::numeric_limits<double>::infinity();
  }
  return plan;
}

RunResult simulate_run(const ModelPlan& plan, double rate, uint64_t seed,
                       const RunOptions& options) {
  if (!(rate > 0.0) || !std::isfinite(rate)) {
    std::ostringstream os;
    os << "arrival rate " << rate << " requests/s must be > 0";
    throw InvalidArgument(os.str());
  }
  if (rate * plan.horizon_s > kMaxExpectedArrivals) {
    std::ostringstream os;
    os << "arrival rate " << rate << " requests/s over " << plan.horizon_s
       << " s expects more than " << kMaxExpectedArrivals << " requests";
    throw InvalidArgument(os.str());
  }
  // In independent mode the links are not shared either; SharedResource needs a finite cap
  // with infinite capacity, which transfers have, so the same objects serve both modes.
  ModelPlan local = plan;
  if (plan.mode == SimMode::independent) {
    local.uplink_bytes_per_s = local.downlink_bytes_per_s = std::numeric_limits<double>::infinity();
  }
  PiSystem system(local, rate, seed, options);
  return system.run();
}

double percentile_inplace(std::vector<double>& values, double p) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const double pos = p * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (pos - std::floor(pos));
}

}  // namespace pinfer::sim
