#include "shared_resource.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::sim {
namespace {

// A job whose remaining work would be served within this many seconds at its current rate is
// finished: rounding in the virtual clocks must not leave a job a few ulps short.
constexpr double kFinishSlackS = 1e-9;
// by_class: work below this fraction of the class clock is rounding, not work left.
constexpr double kClockRelativeSlack = 1e-14;

struct HeapLater {
  template <typename E>
  bool operator()(const E& a, const E& b) const noexcept {
    return a.finish_v != b.finish_v ? a.finish_v > b.finish_v : a.job > b.job;
  }
};

}  // namespace

void Join::done() {
  PINFER_ASSERT(pending > 0);
  if (--pending == 0) engine->schedule(engine->now(), parent);
}

SharedResource::SharedResource(Engine& engine, double capacity, Algorithm algorithm)
    : engine_(engine), capacity_(capacity), algorithm_(algorithm) {
  if (!(capacity > 0.0)) {
    throw InvalidArgument("shared resource capacity " + std::to_string(capacity) + " must be > 0");
  }
}

SharedResource::GroupId SharedResource::add_group(double capacity) {
  if (algorithm_ != Algorithm::by_class) {
    throw InvalidArgument("resource groups need the by_class processor-sharing algorithm");
  }
  if (!(capacity > 0.0) || std::isinf(capacity)) {
    throw InvalidArgument("resource group capacity " + std::to_string(capacity) +
                          " must be finite and > 0");
  }
  groups_.push_back(Group{capacity, {}});
  return static_cast<GroupId>(groups_.size() - 1);
}

SharedResource::Use SharedResource::use(double work, double max_rate, GroupId group) {
  if (!(work >= 0.0) || std::isinf(work)) {
    throw InvalidArgument("resource work " + std::to_string(work) + " must be finite and >= 0");
  }
  if (!(max_rate > 0.0) || (std::isinf(max_rate) && std::isinf(capacity_))) {
    throw InvalidArgument("resource max_rate " + std::to_string(max_rate) +
                          " must be > 0 and finite when the capacity is infinite");
  }
  if (group != kNoGroup && group >= groups_.size()) {
    throw InvalidArgument("resource group " + std::to_string(group) + " does not exist");
  }
  return Use{this, work, max_rate, group};
}

void SharedResource::start_joined(double work, double max_rate, Join& join, GroupId group) {
  const Use u = use(work, max_rate, group);  // same checks
  PINFER_ASSERT(u.work > 0.0);
  start({}, &join, work, max_rate, group);
}

double SharedResource::effective_cap(const Job& j) const {
  if (j.group == kNoGroup) return j.own_cap;
  const Group& g = groups_[j.group];
  return std::min(j.own_cap, g.capacity / static_cast<double>(g.jobs.size()));
}

uint32_t SharedResource::class_for(double cap) {
  const auto it = class_by_cap_.find(cap);
  if (it != class_by_cap_.end()) return it->second;
  uint32_t id;
  if (!free_classes_.empty()) {
    id = free_classes_.back();
    free_classes_.pop_back();
    classes_[id] = Class{};
  } else {
    id = static_cast<uint32_t>(classes_.size());
    classes_.emplace_back();
  }
  classes_[id].cap = cap;
  class_by_cap_.emplace(cap, id);
  return id;
}

void SharedResource::enter_class(uint32_t job, double remaining) {
  Job& j = jobs_[job];
  j.cls = class_for(effective_cap(j));
  Class& c = classes_[j.cls];
  j.finish_v = c.v + remaining;
  ++c.count;
  c.heap.push_back(HeapEntry{j.finish_v, job, j.version});
  std::push_heap(c.heap.begin(), c.heap.end(), HeapLater{});
}

double SharedResource::leave_class(uint32_t job) {
  Job& j = jobs_[job];
  Class& c = classes_[j.cls];
  const double remaining = std::max(0.0, j.finish_v - c.v);
  ++j.version;  // its heap entry (if still there) is now stale
  if (--c.count == 0) {
    class_by_cap_.erase(c.cap);
    c.heap.clear();
    free_classes_.push_back(j.cls);
  }
  return remaining;
}

void SharedResource::recap_group(GroupId g, uint32_t skip) {
  for (uint32_t job : groups_[g].jobs) {
    if (job == skip) continue;
    Job& j = jobs_[job];
    if (classes_[j.cls].cap == effective_cap(j)) continue;
    const double remaining = leave_class(job);
    enter_class(job, remaining);
  }
}

void SharedResource::start(std::coroutine_handle<> h, Join* join, double work, double max_rate,
                           GroupId group) {
  if (algorithm_ == Algorithm::per_job) {
    advance_small();
    small_jobs_.push_back(SmallJob{h, join, work, max_rate, 0.0});
    ++active_;
    reallocate_small();
    return;
  }
  advance();
  uint32_t id;
  if (!free_jobs_.empty()) {
    id = free_jobs_.back();
    free_jobs_.pop_back();
  } else {
    id = static_cast<uint32_t>(jobs_.size());
    jobs_.emplace_back();
  }
  Job& j = jobs_[id];
  j.handle = h;
  j.join = join;
  j.own_cap = max_rate;
  j.group = group;
  j.active = true;
  ++active_;
  if (group != kNoGroup) {
    groups_[group].jobs.push_back(id);
    recap_group(group, id);  // the others' share of the group shrinks
  }
  enter_class(id, work);
  reallocate();
}

void SharedResource::advance() {
  const double dt = engine_.now() - last_update_;
  last_update_ = engine_.now();
  if (dt <= 0.0) return;
  for (const auto& [cap, id] : class_by_cap_) {
    Class& c = classes_[id];
    const double per_job = c.rate * dt;
    c.v += per_job;
    served_ += per_job * c.count;
  }
}

bool SharedResource::clean_top(Class& c) {
  while (!c.heap.empty()) {
    const HeapEntry& top = c.heap.front();
    const Job& j = jobs_[top.job];
    if (j.active && j.version == top.version) return true;
    std::pop_heap(c.heap.begin(), c.heap.end(), HeapLater{});
    c.heap.pop_back();
  }
  return false;
}

void SharedResource::reallocate() {
  ++generation_;
  if (active_ == 0) return;
  // Water filling by increasing cap; a class takes min(cap, equal share of what is left).
  double left = capacity_;
  std::size_t n_left = active_;
  double next = std::numeric_limits<double>::infinity();
  for (const auto& [cap, id] : class_by_cap_) {
    Class& c = classes_[id];
    const double share = left / static_cast<double>(n_left);
    c.rate = std::min(cap, share);
    if (!std::isinf(left)) left = std::max(0.0, left - c.rate * c.count);
    n_left -= c.count;
    if (clean_top(c) && c.rate > 0.0) {
      next = std::min(next, std::max(0.0, c.heap.front().finish_v - c.v) / c.rate);
    }
  }
  if (std::isinf(next)) return;
  engine_.schedule(engine_.now() + next, this, generation_);
}

void SharedResource::on_event(uint64_t tag) {
  if (tag != generation_) return;  // superseded by a later start or finish
  if (algorithm_ == Algorithm::per_job) {
    on_event_small();
    return;
  }
  advance();
  finished_.clear();
  for (const auto& [cap, id] : class_by_cap_) {
    Class& c = classes_[id];
    // Finished: within kFinishSlackS of its end, or within rounding of the class clock (a
    // long-lived class's clock is large; its last few ulps must not keep a job alive).
    const double slack = std::max(c.rate * kFinishSlackS, c.v * kClockRelativeSlack);
    while (clean_top(c) && c.heap.front().finish_v - c.v <= slack) {
      finished_.push_back(c.heap.front().job);
      std::pop_heap(c.heap.begin(), c.heap.end(), HeapLater{});
      c.heap.pop_back();
    }
  }
  // Groups that lost a job give the rest a larger share once every finished job is out.
  std::vector<GroupId> touched;
  for (uint32_t id : finished_) {
    Job& j = jobs_[id];
    served_ += std::max(0.0, j.finish_v - classes_[j.cls].v);
    (void)leave_class(id);
    j.active = false;
    --active_;
    if (j.group != kNoGroup) {
      auto& members = groups_[j.group].jobs;
      members.erase(std::find(members.begin(), members.end(), id));
      touched.push_back(j.group);
    }
    if (j.join != nullptr) {
      j.join->done();
    } else {
      engine_.schedule(engine_.now(), j.handle);
    }
    free_jobs_.push_back(id);
  }
  for (GroupId g : touched) recap_group(g, kNoJob);
  reallocate();
}

// --- Algorithm::per_job ----------------------------------------------------------------------

void SharedResource::advance_small() {
  const double dt = engine_.now() - last_update_;
  last_update_ = engine_.now();
  if (dt <= 0.0) return;
  for (SmallJob& j : small_jobs_) {
    const double done = std::min(j.remaining, j.rate * dt);
    j.remaining -= done;
    served_ += done;
  }
}

void SharedResource::reallocate_small() {
  ++generation_;
  if (small_jobs_.empty()) return;
  // Water filling: visit jobs by increasing cap; each takes min(cap, equal share of the rest).
  std::vector<std::size_t>& order = order_;  // reused: no allocation per reallocation
  order.resize(small_jobs_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return small_jobs_[a].cap < small_jobs_[b].cap; });
  double left = capacity_;
  std::size_t n_left = small_jobs_.size();
  for (std::size_t i : order) {
    const double share = left / static_cast<double>(n_left);
    small_jobs_[i].rate = std::min(small_jobs_[i].cap, share);
    if (!std::isinf(left)) left -= small_jobs_[i].rate;
    --n_left;
  }
  double next = std::numeric_limits<double>::infinity();
  for (const SmallJob& j : small_jobs_) next = std::min(next, j.remaining / j.rate);
  engine_.schedule(engine_.now() + next, this, generation_);
}

void SharedResource::on_event_small() {
  advance_small();
  for (std::size_t i = 0; i < small_jobs_.size();) {
    SmallJob& j = small_jobs_[i];
    if (j.remaining <= j.rate * kFinishSlackS) {
      served_ += j.remaining;
      if (j.join != nullptr) {
        j.join->done();
      } else {
        engine_.schedule(engine_.now(), j.handle);
      }
      small_jobs_[i] = small_jobs_.back();
      small_jobs_.pop_back();
      --active_;
    } else {
      ++i;
    }
  }
  reallocate_small();
}

}  // namespace pinfer::sim
