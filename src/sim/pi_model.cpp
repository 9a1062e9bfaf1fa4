#include "pinfer/sim/pi_model.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <memory>
#include <sstream>

#include "container.hpp"
#include "engine.hpp"
#include "fifo_queue.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/sim/arrivals.hpp"
#include "pinfer/sim/random.hpp"
#include "shared_resource.hpp"
#include "signal.hpp"

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
  double group_seconds = 0.0;  // the longest lane of the current group of overlapping steps
  double lane_seconds = 0.0;   // the current lane: a step and the steps that follow it
  for (const CostStep& s : steps) {
    PlannedStep p;
    p.label = s.label;
    p.category = s.category;
    p.seconds = step_seconds(s, c);
    p.overlaps_previous = s.overlaps_previous && !phase.steps.empty();
    p.follows_previous = s.follows_previous && !phase.steps.empty();
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
    if (!p.overlaps_previous && !p.follows_previous) {
      phase.seconds += group_seconds;
      group_seconds = 0.0;
    }
    lane_seconds = p.follows_previous ? lane_seconds + p.seconds : p.seconds;
    group_seconds = std::max(group_seconds, lane_seconds);
    phase.steps.push_back(std::move(p));
  }
  phase.seconds += group_seconds;
  return phase;
}

// --- one run -------------------------------------------------------------------------------

struct Request {
  double arrival_s;
};

// Running sums of one client's (or all clients') completed requests.
struct Tally {
  double sum_latency = 0, sum_queue = 0, sum_offline = 0, sum_online = 0;
  std::vector<double> latencies;

  void add(const RequestRecord& rec) {
    const double latency = rec.end_s - rec.arrival_s;
    sum_latency += latency;
    sum_queue += rec.start_s - rec.arrival_s;
    sum_offline += rec.offline_wait_s;
    sum_online += rec.end_s - rec.start_s - rec.offline_wait_s;
    latencies.push_back(latency);
  }
};

void finish_stats(RunStats& r, const Tally& t, std::vector<double>& latencies) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (r.served == 0) {
    r.mean_latency_s = r.p50_latency_s = r.p95_latency_s = nan;
    r.p99_latency_s = r.mean_queue_s = r.mean_offline_wait_s = nan;
    r.mean_online_s = nan;
    return;
  }
  const double n = static_cast<double>(r.served);
  r.mean_latency_s = t.sum_latency / n;
  r.mean_queue_s = t.sum_queue / n;
  r.mean_offline_wait_s = t.sum_offline / n;
  r.mean_online_s = t.sum_online / n;
  r.p50_latency_s = percentile_inplace(latencies, 0.50);
  r.p95_latency_s = percentile_inplace(latencies, 0.95);
  r.p99_latency_s = percentile_inplace(latencies, 0.99);
}

constexpr SharedResource::Algorithm kOwn = SharedResource::Algorithm::per_job;

// K clients and one server. With K = 1 and no pool or server link this is, event for event,
// the published one-client model (the processes are spawned and scheduled in the same order).
class PiSystem {
 public:
  PiSystem(const ModelPlan& plan, double rate, uint64_t seed, const RunOptions& options)
      : plan_(plan), options_(options), total_freed_(engine_) {
    const bool contended = plan.mode == SimMode::contended;
    // A resource of one client holds a few jobs: the per-job algorithm (the original
    // arithmetic, so one-client results stay bit-identical); one shared by many clients may
    // hold thousands: the by-class algorithm (shared_resource.hpp).
    const auto shared = plan.clients == 1 ? kOwn : SharedResource::Algorithm::by_class;
    if (contended && plan.shared_cores > 0) {
      pool_ = std::make_unique<SharedResource>(engine_, plan.shared_cores, shared);
    } else {
      server_cpu_ = std::make_unique<SharedResource>(engine_, plan.server_cores, shared);
    }
    if (contended && plan.server_uplink_bytes_per_s > 0) {
      server_up_ = std::make_unique<SharedResource>(engine_, plan.server_uplink_bytes_per_s);
    }
    if (contended && plan.server_downlink_bytes_per_s > 0) {
      server_down_ = std::make_unique<SharedResource>(engine_, plan.server_downlink_bytes_per_s);
    }
    clients_.reserve(plan.clients);
    for (uint32_t i = 0; i < plan.clients; ++i) {
      clients_.push_back(std::make_unique<Client>(engine_, plan, i, rate, seed));
      Client& c = *clients_.back();
      if (!pool_) c.cpu = std::make_unique<SharedResource>(engine_, plan.client_cores, kOwn);
      if (server_up_) {
        c.up_group = server_up_->add_group(plan.uplink_bytes_per_s);
      } else {
        c.uplink = std::make_unique<SharedResource>(engine_, plan.uplink_bytes_per_s, kOwn);
      }
      if (server_down_) {
        c.down_group = server_down_->add_group(plan.downlink_bytes_per_s);
      } else {
        c.downlink = std::make_unique<SharedResource>(engine_, plan.downlink_bytes_per_s, kOwn);
      }
    }
  }

  RunResult run() {
    for (auto& c : clients_) {
      engine_.spawn(arrivals(*c));
      engine_.spawn(online_server(*c));
      if (plan_.precompute_fits) engine_.spawn(precompute_process(*c));
    }
    engine_.spawn(half_time_monitor());
    result_.events = engine_.run_until(plan_.horizon_s);
    // The state at the horizon (events at exactly the horizon have not run).
    for (auto& c : clients_) {
      c->stats.backlog_at_end = c->queue.size();
      c->stats.in_system_at_end = c->stats.arrivals - c->stats.served;
      result_.backlog_at_end += c->stats.backlog_at_end;
      result_.in_system_at_end += c->stats.in_system_at_end;
    }
    if (plan_.drain && !drained()) result_.events += engine_.run_until(10.0 * plan_.horizon_s);
    result_.end_s = engine_.now();
    finish();
    return std::move(result_);
  }

 private:
  struct Client {
    Client(Engine& engine, const ModelPlan& plan, uint32_t i, double rate, uint64_t seed)
        : index(i),
          arrivals(rate, seed, i),
          queue(engine),
          store(engine, plan.client_capacity_bytes),
          quota(engine, plan.server_quota_bytes),
          consumed(engine) {}
    uint32_t index;
    PoissonArrivals arrivals;
    FifoQueue<Request> queue;
    Container store;  // the client's precompute store
    Container quota;  // its share of the server's store
    Signal consumed;
    std::unique_ptr<SharedResource> cpu;               // null: the shared pool
    std::unique_ptr<SharedResource> uplink, downlink;  // null: the server link, in a group
    SharedResource::GroupId up_group = SharedResource::kNoGroup;
    SharedResource::GroupId down_group = SharedResource::kNoGroup;
    std::deque<int64_t> ids;
    RunStats stats;
    Tally tally;
  };

  struct Target {
    SharedResource* resource;
    SharedResource::GroupId group;
  };

  Target target(Client& c, ResourceId id) {
    switch (id) {
      case ResourceId::client_cpu:
        return {pool_ ? pool_.get() : c.cpu.get(), SharedResource::kNoGroup};
      case ResourceId::server_cpu:
        return {pool_ ? pool_.get() : server_cpu_.get(), SharedResource::kNoGroup};
      case ResourceId::uplink:
        if (server_up_) return {server_up_.get(), c.up_group};
        return {c.uplink.get(), SharedResource::kNoGroup};
      case ResourceId::downlink:
        if (server_down_) return {server_down_.get(), c.down_group};
        return {c.downlink.get(), SharedResource::kNoGroup};
    }
    PINFER_ASSERT(false);
    return {nullptr, SharedResource::kNoGroup};
  }

  // Starts steps [first, last) of a phase together; resumes the process when all are done.
  struct GroupStart {
    PiSystem* system;
    Client* client;
    const std::vector<PlannedStep>* steps;
    std::size_t first, last;
    Join join;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
      join.engine = &system->engine_;
      join.parent = h;
      for (std::size_t i = first; i < last; ++i) {
        if ((*steps)[i].work > 0.0) ++join.pending;
      }
      if (join.pending == 0) return false;
      for (std::size_t i = first; i < last; ++i) {
        const PlannedStep& s = (*steps)[i];
        if (s.work <= 0.0) continue;
        const Target t = system->target(*client, s.resource);
        t.resource->start_joined(s.work, s.max_rate, join, t.group);
      }
      return true;
    }
    void await_resume() const noexcept {}
  };

  // One lane of a group: steps [first, last) one after the other, then the join is told.
  Task run_lane(Client& c, const std::vector<PlannedStep>& steps, std::size_t first,
                std::size_t last, Join& join) {
    for (std::size_t i = first; i < last; ++i) {
      if (steps[i].work <= 0.0) continue;
      const Target t = target(c, steps[i].resource);
      co_await t.resource->use(steps[i].work, steps[i].max_rate, t.group);
    }
    join.done();
  }

  // Starts the lanes of steps [first, last) together; resumes the process when all are done.
  struct LanesStart {
    PiSystem* system;
    Client* client;
    const std::vector<PlannedStep>* steps;
    std::size_t first, last;
    Join join;
    std::vector<Task> lanes_running;  // owned here, so each frame is freed with this awaiter
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      join.engine = &system->engine_;
      join.parent = h;
      std::vector<std::pair<std::size_t, std::size_t>> lanes;
      for (std::size_t i = first; i < last; ++i) {
        if ((*steps)[i].follows_previous && i > first) {
          lanes.back().second = i + 1;
        } else {
          lanes.emplace_back(i, i + 1);
        }
      }
      join.pending = static_cast<uint32_t>(lanes.size());
      lanes_running.reserve(lanes.size());
      for (const auto& [a, b] : lanes) {
        lanes_running.push_back(system->run_lane(*client, *steps, a, b, join));
        system->engine_.start(lanes_running.back());
      }
    }
    void await_resume() const noexcept {}
  };

  Task run_phase(Client& c, const PhasePlan& phase) {
    if (plan_.mode == SimMode::independent) {
      // No contention: the phase takes the sum of its (group) durations, as the published
      // model's sequence of timeouts does.
      co_await engine_.timeout(phase.seconds);
      co_return;
    }
    const std::vector<PlannedStep>& steps = phase.steps;
    for (std::size_t i = 0; i < steps.size();) {
      std::size_t j = i + 1;
      bool lanes = false;
      while (j < steps.size() && (steps[j].overlaps_previous || steps[j].follows_previous)) {
        lanes = lanes || steps[j].follows_previous;
        ++j;
      }
      if (j == i + 1) {
        const Target t = target(c, steps[i].resource);
        co_await t.resource->use(steps[i].work, steps[i].max_rate, t.group);
      } else if (lanes) {
        co_await LanesStart{this, &c, &steps, i, j, {}, {}};
      } else {
        co_await GroupStart{this, &c, &steps, i, j, {}};
      }
      i = j;
    }
  }

  Task arrivals(Client& c) {
    while (true) {
      const double t = c.arrivals.next();
      if (plan_.drain && t >= plan_.horizon_s) {
        ++clients_done_arriving_;
        co_return;
      }
      co_await engine_.until(t);
      ++c.stats.arrivals;
      ++result_.arrivals;
      c.queue.put(Request{engine_.now()});
    }
  }

  Task half_time_monitor() {
    co_await engine_.until(plan_.horizon_s / 2);
    for (auto& c : clients_) {
      c->stats.in_system_at_half = c->stats.arrivals - c->stats.served;
      result_.in_system_at_half += c->stats.in_system_at_half;
    }
  }

  [[nodiscard]] bool own_room(const Client& c) const {
    // Published condition: free space strictly exceeds one precompute on both sides.
    return c.store.free_space() > plan_.client_bytes_per_precompute &&
           c.quota.free_space() > plan_.server_bytes_per_precompute;
  }
  [[nodiscard]] bool total_room() const {
    return !plan_.server_total_binds ||
           plan_.server_capacity_bytes - server_total_used_ > plan_.server_bytes_per_precompute;
  }

  Task precompute_process(Client& c) {
    const double poll = plan_.policy == PrecomputePolicy::poll ? plan_.poll_interval_s : 0.0;
    double last = engine_.now();  // the poll clock: ticks at last + poll after each wake-up
    while (true) {
      co_await engine_.until(last + poll);
      if (own_room(c) && total_room()) {
        // The server sets the space aside when the precompute starts (several clients may be
        // making one at the same time).
        server_total_used_ += plan_.server_bytes_per_precompute;
        result_.server_total_peak_bytes =
            std::max(result_.server_total_peak_bytes, server_total_used_);
        const double began = engine_.now();
        co_await run_phase(c, plan_.offline);
        const int64_t id = next_precompute_id_++;
        ++c.stats.precomputes_made;
        ++result_.precomputes_made;
        c.ids.push_back(id);
        if (options_.keep_trace) {
          result_.produced_ids.push_back(id);
          result_.produced_by.push_back(c.index);
          result_.produced_phase_s.push_back(engine_.now() - began);
        }
        co_await c.store.put(plan_.client_bytes_per_precompute);
        co_await c.quota.put(plan_.server_bytes_per_precompute);
        last = engine_.now();
        continue;
      }
      last = engine_.now();
      // Nothing but a consumption frees space, so sleep until one instead of waking every
      // second; then resume on the poll grid (the first tick at or after the consumption), which
      // gives the same tick times as polling every second. A client blocked only by the
      // server's total waits for any client's consumption.
      if (own_room(c)) {
        co_await total_freed_.wait();
      } else {
        co_await c.consumed.wait();
      }
      if (poll > 0.0) {
        const double k = std::max(1.0, std::ceil((engine_.now() - last) / poll));
        last += (k - 1.0) * poll;
      } else {
        last = engine_.now();
      }
    }
  }

  Task online_server(Client& c) {
    while (true) {
      const Request req = co_await c.queue.get();
      RequestRecord rec;
      rec.client = c.index;
      rec.arrival_s = req.arrival_s;
      rec.start_s = engine_.now();
      if (plan_.precompute_fits) {
        co_await c.store.get(plan_.client_bytes_per_precompute);
        co_await c.quota.get(plan_.server_bytes_per_precompute);
        PINFER_ASSERT(!c.ids.empty());
        rec.precompute_id = c.ids.front();
        c.ids.pop_front();
        ++c.stats.precomputes_used;
        ++result_.precomputes_used;
        server_total_used_ -= plan_.server_bytes_per_precompute;
        c.consumed.notify();
        if (plan_.server_total_binds) total_freed_.notify();
      } else {
        co_await run_phase(c, plan_.offline);
      }
      rec.offline_wait_s = engine_.now() - rec.start_s;
      co_await run_phase(c, plan_.online);
      rec.end_s = engine_.now();
      record(c, rec);
    }
  }

  void record(Client& c, const RequestRecord& rec) {
    ++c.stats.served;
    ++result_.served;
    c.tally.add(rec);
    if (options_.keep_trace) result_.trace.push_back(rec);
    if (plan_.drain && engine_.now() >= plan_.horizon_s && drained()) engine_.stop();
  }

  [[nodiscard]] bool drained() const {
    return clients_done_arriving_ == clients_.size() && result_.served == result_.arrivals;
  }

  void finish() {
    Tally all;
    std::vector<double> latencies;
    result_.clients.reserve(clients_.size());
    for (auto& c : clients_) {
      RunStats& s = c->stats;
      s.client_peak_bytes = c->store.peak_level();
      s.server_peak_bytes = c->quota.peak_level();
      result_.client_peak_bytes = std::max(result_.client_peak_bytes, s.client_peak_bytes);
      result_.server_peak_bytes = std::max(result_.server_peak_bytes, s.server_peak_bytes);
      all.sum_latency += c->tally.sum_latency;
      all.sum_queue += c->tally.sum_queue;
      all.sum_offline += c->tally.sum_offline;
      all.sum_online += c->tally.sum_online;
      latencies.insert(latencies.end(), c->tally.latencies.begin(), c->tally.latencies.end());
      if (clients_.size() > 1) finish_stats(s, c->tally, c->tally.latencies);
    }
    finish_stats(result_, all, latencies);
    if (clients_.size() == 1) {
      // One client: its figures are the aggregate (the same numbers, computed once).
      clients_.front()->stats = static_cast<const RunStats&>(result_);
    }
    for (auto& c : clients_) result_.clients.push_back(c->stats);
  }

  Engine engine_;  // first: destroyed last, after the processes' resources
  const ModelPlan& plan_;
  RunOptions options_;
  std::unique_ptr<SharedResource> pool_;                     // shared_cores > 0: all compute
  std::unique_ptr<SharedResource> server_cpu_;               // otherwise the server's cores
  std::unique_ptr<SharedResource> server_up_, server_down_;  // the server's links, if modelled
  Signal total_freed_;                                       // a precompute left the server
  std::vector<std::unique_ptr<Client>> clients_;
  uint64_t server_total_used_ = 0;
  int64_t next_precompute_id_ = 0;
  std::size_t clients_done_arriving_ = 0;
  RunResult result_;
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
  plan.clients = c.clients;
  plan.server_quota_bytes = c.server_quota_per_client_bytes != 0
                                ? c.server_quota_per_client_bytes
                                : c.server_storage_bytes / c.clients;
  plan.server_total_binds =
      static_cast<double>(plan.server_quota_bytes) * c.clients > c.server_storage_bytes;
  plan.precompute_fits = costs.client_storage_bytes < c.client_storage_bytes;
  if (plan.precompute_fits && costs.server_storage_bytes >= plan.server_quota_bytes) {
    // The published model would start no precompute and leave every request waiting forever.
    if (c.clients == 1 && c.server_quota_per_client_bytes == 0) {
      throw InvalidArgument("server_storage " + std::to_string(c.server_storage_bytes) +
                            " B cannot hold one precompute of " +
                            std::to_string(costs.server_storage_bytes) + " B");
    }
    throw InvalidArgument(
        "server_quota_per_client " + std::to_string(plan.server_quota_bytes) + " B (" +
        (c.server_quota_per_client_bytes != 0
             ? std::string("as set")
             : "server_storage " + std::to_string(c.server_storage_bytes) + " B / " +
                   std::to_string(c.clients) + " clients") +
        ") cannot hold one precompute of " + std::to_string(costs.server_storage_bytes) + " B");
  }
  plan.mode = c.mode;
  plan.policy = c.policy;
  plan.poll_interval_s = c.poll_interval_s;
  plan.horizon_s = c.sim_hours * 3600.0;
  plan.uplink_bytes_per_s = bytes_per_s(c.uplink_mbps) * c.bandwidth_speedup;
  plan.downlink_bytes_per_s = bytes_per_s(c.downlink_mbps) * c.bandwidth_speedup;
  plan.drain = c.drain;
  if (c.mode == SimMode::contended) {
    plan.client_cores = c.client_cores != 0 ? c.client_cores : c.client_threads;
    plan.server_cores =
        c.server_cores != 0 ? c.server_cores : std::max(c.server_gc_threads, c.server_he_threads);
    plan.shared_cores = c.shared_cores;
    plan.server_uplink_bytes_per_s = bytes_per_s(c.server_uplink_mbps) * c.bandwidth_speedup;
    plan.server_downlink_bytes_per_s = bytes_per_s(c.server_downlink_mbps) * c.bandwidth_speedup;
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
  if (rate * plan.horizon_s * plan.clients > kMaxExpectedArrivals) {
    std::ostringstream os;
    os << "arrival rate " << rate << " requests/s over " << plan.horizon_s << " s at "
       << plan.clients << " client(s) expects more than " << kMaxExpectedArrivals << " requests";
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

RunStats request_stats(std::span<const RequestRecord> requests, uint64_t arrivals) {
  RunStats stats;
  stats.arrivals = arrivals;
  stats.served = requests.size();
  stats.in_system_at_end = arrivals - std::min<uint64_t>(arrivals, requests.size());
  Tally t;
  for (const RequestRecord& r : requests) t.add(r);
  finish_stats(stats, t, t.latencies);
  return stats;
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
