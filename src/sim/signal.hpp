#pragma once
// A condition processes can wait on: `co_await signal.wait()` suspends until the next
// `notify()`, which resumes every waiter at the current time (in the order they waited).
// Thread safety: none (one engine per thread).
#include <coroutine>
#include <vector>

#include "engine.hpp"

namespace pinfer::sim {

class Signal {
 public:
  explicit Signal(Engine& engine) : engine_(engine) {}
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

  struct Wait {
    Signal* signal;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { signal->waiters_.push_back(h); }
    void await_resume() const noexcept {}
  };
  [[nodiscard]] Wait wait() noexcept { return Wait{this}; }

  void notify() {
    for (auto h : waiters_) engine_.schedule(engine_.now(), h);
    waiters_.clear();
  }

 private:
  Engine& engine_;
  std::vector<std::coroutine_handle<>> waiters_;
};

}  // namespace pinfer::sim
