#pragma once
// A resource shared by concurrent jobs: CPU cores (capacity = cores, work in core-seconds) or
// a link (capacity = bytes/s, work in bytes). Scheduling is processor sharing with per-job
// rate caps (max-min fair "water filling"): each active job gets an equal share of the
// capacity, a job that cannot use its share (its cap, e.g. its thread count) keeps only its
// cap, and the rest is split among the others. Rates are recomputed whenever a job starts or
// finishes, so a job's finish time is exact for piecewise-constant rates.
//
// Why processor sharing: it is how an OS time-slices runnable threads over cores and how TCP
// flows share a bottleneck link in the long run; FIFO would let a 150 s offline transfer block
// a 1 ms online message, which no real device does.
//
// With capacity = infinity every job runs at its cap, i.e. no contention.
// Thread safety: none (one engine per thread).
#include <coroutine>
#include <cstdint>
#include <vector>

#include "pinfer/sim/engine.hpp"

namespace pinfer::sim {

class SharedResource final : private EventHandler {
 public:
  // capacity > 0 (may be +infinity). Throws InvalidArgument otherwise.
  SharedResource(Engine& engine, double capacity);
  SharedResource(const SharedResource&) = delete;
  SharedResource& operator=(const SharedResource&) = delete;

  struct Use {
    SharedResource* resource;
    double work;
    double max_rate;
    bool await_ready() const noexcept { return work <= 0.0; }
    void await_suspend(std::coroutine_handle<> h) { resource->start(h, work, max_rate); }
    void await_resume() const noexcept {}
  };
  // Awaitable: completes when `work` units have been served, at a rate of at most max_rate
  // units/s (+infinity: no cap). Requires finite work >= 0 and max_rate > 0 (InvalidArgument);
  // with infinite capacity max_rate must be finite.
  [[nodiscard]] Use use(double work, double max_rate);

  [[nodiscard]] double capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t active_jobs() const noexcept { return jobs_.size(); }
  // Integral of the allocated rate over time (units served), for utilisation figures.
  [[nodiscard]] double served_work() const noexcept { return served_; }

 private:
  struct Job {
    std::coroutine_handle<> handle;
    double remaining;
    double cap;
    double rate;
  };
  void start(std::coroutine_handle<> h, double work, double max_rate);
  void on_event(uint64_t tag) override;
  // Charges progress since last_update_ at the current rates.
  void advance();
  // Water filling, then schedules the next completion (superseding older ones by tag).
  void reallocate();

  Engine& engine_;
  double capacity_;
  double last_update_ = 0.0;
  double served_ = 0.0;
  uint64_t generation_ = 0;
  std::vector<Job> jobs_;
  std::vector<std::size_t> order_;  // scratch for water filling
};

}  // namespace pinfer::sim
