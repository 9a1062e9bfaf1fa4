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
// Groups: a job may belong to a group whose jobs together are also limited to the group's
// capacity, split equally among them (a client's access link, when its transfers also cross a
// shared server link modelled by this resource). A grouped job's cap is
// min(its own cap, group capacity / active jobs of the group). When every job of a group has
// the group capacity as its own cap (transfers on one access link), this is exactly the
// max-min fair allocation of the two-link network: a group's jobs all cross this resource, so
// they are either all limited here at the common level or all at their equal access share.
//
// Cost per event: jobs with the same effective cap get the same rate, so they are kept in one
// class with a virtual clock (work served per job since the class was created) and a min-heap
// of virtual finish times. Water filling runs over classes, not jobs, and the next completion
// is the earliest over class heads: O(classes + log jobs) per start or finish instead of
// O(jobs log jobs). Thread counts and link rates give few distinct caps, so thousands of
// concurrent jobs stay cheap.
//
// Two implementations of the same allocation: `by_class` (above) for resources shared by many
// clients, and `per_job` (every job's remaining work updated at every event, water filling
// over jobs sorted by cap) for a resource of one client, which holds a handful of jobs; the
// latter is the simulator's original arithmetic, so one-client runs reproduce earlier results
// bit for bit. Groups need `by_class`.
//
// With capacity = infinity every job runs at its cap, i.e. no contention.
// Thread safety: none (one engine per thread).
#include <coroutine>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "engine.hpp"

namespace pinfer::sim {

// Completion barrier for jobs started together (a group of overlapping steps, possibly on
// different resources): the parent process resumes when `pending` drops to zero.
struct Join {
  Engine* engine = nullptr;
  std::coroutine_handle<> parent;
  uint32_t pending = 0;
  void done();
};

class SharedResource final : private EventHandler {
 public:
  using GroupId = uint32_t;
  static constexpr GroupId kNoGroup = std::numeric_limits<GroupId>::max();

  enum class Algorithm { per_job, by_class };

  // capacity > 0 (may be +infinity). Throws InvalidArgument otherwise.
  SharedResource(Engine& engine, double capacity, Algorithm algorithm = Algorithm::by_class);
  SharedResource(const SharedResource&) = delete;
  SharedResource& operator=(const SharedResource&) = delete;

  // A new group of jobs limited together to `capacity` (> 0, finite) units/s.
  // Throws InvalidArgument with Algorithm::per_job.
  [[nodiscard]] GroupId add_group(double capacity);

  struct Use {
    SharedResource* resource;
    double work;
    double max_rate;
    GroupId group;
    bool await_ready() const noexcept { return work <= 0.0; }
    void await_suspend(std::coroutine_handle<> h) {
      resource->start(h, nullptr, work, max_rate, group);
    }
    void await_resume() const noexcept {}
  };
  // Awaitable: completes when `work` units have been served, at a rate of at most max_rate
  // units/s (+infinity: no cap). Requires finite work >= 0 and max_rate > 0 (InvalidArgument);
  // with infinite capacity max_rate must be finite.
  [[nodiscard]] Use use(double work, double max_rate, GroupId group = kNoGroup);
  // Starts a job (work > 0, checked as in use()) that calls join.done() when it finishes.
  void start_joined(double work, double max_rate, Join& join, GroupId group = kNoGroup);

  [[nodiscard]] double capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t active_jobs() const noexcept { return active_; }
  // Integral of the allocated rate over time (units served), for utilisation figures.
  [[nodiscard]] double served_work() const noexcept { return served_; }

 private:
  struct Job {
    std::coroutine_handle<> handle;  // resumed on completion, or ...
    Join* join = nullptr;            // ... told
    double own_cap = 0;
    double finish_v = 0;  // virtual finish time in its class
    uint32_t cls = 0;
    uint32_t version = 0;  // bumped when the job leaves a class: older heap entries are stale
    GroupId group = kNoGroup;
    bool active = false;
  };
  struct HeapEntry {
    double finish_v;
    uint32_t job;
    uint32_t version;
  };
  struct Class {
    double cap = 0;
    double rate = 0;
    double v = 0;  // work served per job of this class since it was created
    uint32_t count = 0;
    std::vector<HeapEntry> heap;  // min-heap by (finish_v, job)
  };
  struct Group {
    double capacity = 0;
    std::vector<uint32_t> jobs;
  };

  void start(std::coroutine_handle<> h, Join* join, double work, double max_rate, GroupId group);
  // Algorithm::per_job.
  struct SmallJob {
    std::coroutine_handle<> handle;
    Join* join;
    double remaining;
    double cap;
    double rate;
  };
  void advance_small();
  void reallocate_small();
  void on_event_small();
  void on_event(uint64_t tag) override;
  // Charges progress since last_update_ at the current rates.
  void advance();
  // Water filling over classes, then schedules the next completion (superseding older ones).
  void reallocate();
  [[nodiscard]] double effective_cap(const Job& j) const;
  uint32_t class_for(double cap);
  void enter_class(uint32_t job, double remaining);
  // Removes the job from its class; returns its remaining work.
  double leave_class(uint32_t job);
  static constexpr uint32_t kNoJob = std::numeric_limits<uint32_t>::max();
  // Moves the group's jobs (but `skip`, not yet in a class) to the class of their new cap.
  void recap_group(GroupId g, uint32_t skip);
  // Drops stale entries from the top of the class heap; false if the heap is empty.
  bool clean_top(Class& c);

  Engine& engine_;
  double capacity_;
  Algorithm algorithm_;
  std::vector<SmallJob> small_jobs_;
  std::vector<std::size_t> order_;  // scratch for per-job water filling
  double last_update_ = 0.0;
  double served_ = 0.0;
  uint64_t generation_ = 0;
  std::size_t active_ = 0;
  std::vector<Job> jobs_;
  std::vector<uint32_t> free_jobs_;
  std::vector<Class> classes_;
  std::vector<uint32_t> free_classes_;
  std::map<double, uint32_t> class_by_cap_;  // live classes by cap (water filling order)
  std::vector<Group> groups_;
  std::vector<uint32_t> finished_;  // scratch
};

}  // namespace pinfer::sim
