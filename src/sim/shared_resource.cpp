#include "pinfer/sim/shared_resource.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::sim {
namespace {

// A job whose remaining work would be served within this many seconds at its current rate is
// finished: rounding in remaining -= rate * dt must not leave a job a few ulps short.
constexpr double kFinishSlackS = 1e-9;

}  // namespace

SharedResource::SharedResource(Engine& engine, double capacity)
    : engine_(engine), capacity_(capacity) {
  if (!(capacity > 0.0)) {
    throw InvalidArgument("shared resource capacity " + std::to_string(capacity) + " must be > 0");
  }
}

SharedResource::Use SharedResource::use(double work, double max_rate) {
  if (!(work >= 0.0) || std::isinf(work)) {
    throw InvalidArgument("resource work " + std::to_string(work) + " must be finite and >= 0");
  }
  if (!(max_rate > 0.0) || (std::isinf(max_rate) && std::isinf(capacity_))) {
    throw InvalidArgument("resource max_rate " + std::to_string(max_rate) +
                          " must be > 0 and finite when the capacity is infinite");
  }
  return Use{this, work, max_rate};
}

void SharedResource::start(std::coroutine_handle<> h, double work, double max_rate) {
  advance();
  jobs_.push_back(Job{h, work, max_rate, 0.0});
  reallocate();
}

void SharedResource::advance() {
  const double dt = engine_.now() - last_update_;
  last_update_ = engine_.now();
  if (dt <= 0.0) return;
  for (Job& j : jobs_) {
    const double done = std::min(j.remaining, j.rate * dt);
    j.remaining -= done;
    served_ += done;
  }
}

void SharedResource::reallocate() {
  ++generation_;
  if (jobs_.empty()) return;
  // Water filling: visit jobs by increasing cap; each takes min(cap, equal share of the rest).
  std::vector<std::size_t>& order = order_;  // reused: no allocation per reallocation
  order.resize(jobs_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return jobs_[a].cap < jobs_[b].cap; });
  double left = capacity_;
  std::size_t n_left = jobs_.size();
  for (std::size_t i : order) {
    const double share = left / static_cast<double>(n_left);
    jobs_[i].rate = std::min(jobs_[i].cap, share);
    if (!std::isinf(left)) left -= jobs_[i].rate;
    --n_left;
  }
  double next = std::numeric_limits<double>::infinity();
  for (const Job& j : jobs_) next = std::min(next, j.remaining / j.rate);
  engine_.schedule(engine_.now() + next, this, generation_);
}

void SharedResource::on_event(uint64_t tag) {
  if (tag != generation_) return;  // superseded by a later start or finish
  advance();
  for (std::size_t i = 0; i < jobs_.size();) {
    if (jobs_[i].remaining <= jobs_[i].rate * kFinishSlackS) {
      served_ += jobs_[i].remaining;
      engine_.schedule(engine_.now(), jobs_[i].handle);
      jobs_[i] = jobs_.back();
      jobs_.pop_back();
    } else {
      ++i;
    }
  }
  reallocate();
}

}  // namespace pinfer::sim
