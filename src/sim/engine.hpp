#pragma once
// Discrete-event simulation engine: a clock, an event queue and processes written as C++20
// coroutines (`Task`), in the style of process-oriented simulators such as SimPy.
//
// A process is a coroutine returning Task. It advances simulated time by awaiting
// `engine.timeout(dt)`, a resource (container.hpp, fifo_queue.hpp, shared_resource.hpp) or
// another Task (a sub-process: the parent resumes when the child returns). Top-level processes
// are handed to `Engine::spawn` and owned by the engine until it is destroyed.
//
// Determinism: events are ordered by (time, insertion sequence), so events at the same instant
// run in the order they were scheduled and a run is a pure function of its inputs and seed.
// Thread safety: none; use one Engine per thread (runs of a sweep are independent engines).
#include <coroutine>
#include <cstdint>
#include <exception>
#include <utility>
#include <vector>

namespace pinfer::sim {

class Engine;

// A coroutine-based process. Move-only; owns its coroutine frame until spawned or awaited.
class [[nodiscard]] Task {
 public:
  struct promise_type {
    Engine* engine = nullptr;              // set for top-level (spawned) processes
    std::coroutine_handle<> continuation;  // set when awaited by a parent process
    std::exception_ptr error;

    Task get_return_object() noexcept {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        if (h.promise().continuation) return h.promise().continuation;
        return std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept;
  };

  Task() = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  // Awaiting a Task runs it as a sub-process; exceptions propagate to the awaiting process.
  bool await_ready() const noexcept { return !handle_ || handle_.done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
    handle_.promise().continuation = parent;
    return handle_;
  }
  void await_resume() const {
    if (handle_ && handle_.promise().error) std::rethrow_exception(handle_.promise().error);
  }

 private:
  friend class Engine;
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  void reset() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  std::coroutine_handle<promise_type> handle_;
};

// Receives engine events that are not coroutine resumptions (e.g. a shared resource's next
// completion). `tag` lets the handler ignore events it has since superseded.
class EventHandler {
 public:
  virtual void on_event(uint64_t tag) = 0;

 protected:
  ~EventHandler() = default;
};

class Engine {
 public:
  Engine() = default;
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  [[nodiscard]] double now() const noexcept { return now_; }

  // Starts `task` as a top-level process at the current time; the engine owns it.
  void spawn(Task task);
  // Starts `task` at the current time as a process the caller keeps: it must outlive the
  // process (destroying a finished Task frees it). Concurrent sub-processes of one parent
  // (e.g. the lanes of a group of steps) are started this way, so their frames are released
  // when the parent moves on, not when the engine ends.
  void start(Task& task);

  // Resumes `h` at time `at` (>= now). Used by awaitables and resources.
  void schedule(double at, std::coroutine_handle<> h);
  // Calls handler->on_event(tag) at time `at` (>= now).
  void schedule(double at, EventHandler* handler, uint64_t tag);

  // Runs events with time < horizon_s (an event exactly at the horizon is not run, as in
  // SimPy's run(until=...)); leaves now() == horizon_s. Rethrows the first exception that
  // escaped a top-level process. Returns the number of events processed.
  uint64_t run_until(double horizon_s);
  // Makes the running run_until return after the current event, leaving now() at that event's
  // time (a run that ends when its work is done rather than at a fixed horizon).
  void stop() noexcept { stop_requested_ = true; }

  // Awaitable: resume after dt seconds (dt >= 0). A zero delay still yields to events already
  // scheduled for this instant.
  struct Timeout {
    Engine* engine;
    double at;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const { engine->schedule(at, h); }
    void await_resume() const noexcept {}
  };
  [[nodiscard]] Timeout timeout(double dt_s);
  // Awaitable: resume at absolute time t (>= now).
  [[nodiscard]] Timeout until(double t_s);

  [[nodiscard]] uint64_t events_processed() const noexcept { return events_processed_; }

 private:
  friend struct Task::promise_type;
  struct Event {
    double time;
    uint64_t seq;
    std::coroutine_handle<> resume;  // either this ...
    EventHandler* handler;           // ... or this
    uint64_t tag;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const noexcept {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };
  void push(Event e);

  double now_ = 0.0;
  uint64_t next_seq_ = 0;
  uint64_t events_processed_ = 0;
  std::vector<Event> heap_;
  std::vector<std::coroutine_handle<Task::promise_type>> processes_;
  std::exception_ptr failure_;
  bool stop_requested_ = false;
};

}  // namespace pinfer::sim
