#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::sim {

void Task::promise_type::unhandled_exception() noexcept {
  error = std::current_exception();
  // A top-level process has nobody to rethrow to: the engine stops and rethrows from run_until.
  if (!continuation && engine != nullptr && !engine->failure_) engine->failure_ = error;
}

Engine::~Engine() {
  // Destroying a suspended top-level frame also destroys the Task objects (sub-processes) it
  // holds, so every frame is released exactly once.
  for (auto h : processes_) h.destroy();
}

void Engine::spawn(Task task) {
  PINFER_ASSERT(task.handle_);
  auto h = std::exchange(task.handle_, {});
  h.promise().engine = this;
  processes_.push_back(h);
  schedule(now_, h);
}

void Engine::start(Task& task) {
  PINFER_ASSERT(task.handle_ && !task.handle_.done());
  task.handle_.promise().engine = this;
  schedule(now_, task.handle_);
}

void Engine::push(Event e) {
  heap_.push_back(e);
  std::push_heap(heap_.begin(), heap_.end(), Later{});
}

void Engine::schedule(double at, std::coroutine_handle<> h) {
  PINFER_ASSERT(at >= now_ && !std::isnan(at));
  push(Event{at, next_seq_++, h, nullptr, 0});
}

void Engine::schedule(double at, EventHandler* handler, uint64_t tag) {
  PINFER_ASSERT(at >= now_ && !std::isnan(at) && handler != nullptr);
  push(Event{at, next_seq_++, {}, handler, tag});
}

Engine::Timeout Engine::timeout(double dt_s) {
  if (!(dt_s >= 0.0) || std::isinf(dt_s)) {
    throw InvalidArgument("timeout delay " + std::to_string(dt_s) + " s must be finite and >= 0");
  }
  return Timeout{this, now_ + dt_s};
}

Engine::Timeout Engine::until(double t_s) {
  if (!(t_s >= now_) || std::isinf(t_s)) {
    throw InvalidArgument("until time " + std::to_string(t_s) + " s must be finite and >= now " +
                          std::to_string(now_));
  }
  return Timeout{this, t_s};
}

uint64_t Engine::run_until(double horizon_s) {
  const uint64_t start = events_processed_;
  stop_requested_ = false;
  while (!heap_.empty() && heap_.front().time < horizon_s) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    const Event e = heap_.back();
    heap_.pop_back();
    now_ = e.time;
    ++events_processed_;
    if (e.resume) {
      e.resume.resume();
    } else {
      e.handler->on_event(e.tag);
    }
    if (failure_) std::rethrow_exception(std::exchange(failure_, {}));
    if (stop_requested_) return events_processed_ - start;
  }
  if (horizon_s > now_) now_ = horizon_s;
  return events_processed_ - start;
}

}  // namespace pinfer::sim
