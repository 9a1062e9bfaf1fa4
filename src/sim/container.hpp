#pragma once
// A level of a divisible quantity (here: precompute storage, in bytes) with a capacity, as in
// SimPy's Container: `put(n)` waits until level + n <= capacity, `get(n)` waits until
// level >= n. Waiters are served FIFO (a later request never overtakes an earlier one).
//
// The level can never exceed the capacity (checked on every change) and the peak is recorded,
// so tests can check the storage bound. Thread safety: none (one engine per thread).
#include <coroutine>
#include <cstdint>
#include <deque>

#include "engine.hpp"

namespace pinfer::sim {

class Container {
 public:
  // Throws InvalidArgument if initial_level > capacity.
  Container(Engine& engine, uint64_t capacity, uint64_t initial_level = 0);
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  struct Request {
    Container* container;
    uint64_t amount;
    bool is_put;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { container->enqueue(h, amount, is_put); }
    void await_resume() const noexcept {}
  };
  // Awaitable; throws InvalidArgument if amount > capacity (it could never complete).
  [[nodiscard]] Request put(uint64_t amount);
  [[nodiscard]] Request get(uint64_t amount);

  [[nodiscard]] uint64_t level() const noexcept { return level_; }
  [[nodiscard]] uint64_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] uint64_t free_space() const noexcept { return capacity_ - level_; }
  [[nodiscard]] uint64_t peak_level() const noexcept { return peak_; }

 private:
  struct Waiter {
    std::coroutine_handle<> handle;
    uint64_t amount;
  };
  void enqueue(std::coroutine_handle<> h, uint64_t amount, bool is_put);
  // Grants waiting requests that now fit, in FIFO order per direction; resumes them at now.
  void serve();

  Engine& engine_;
  uint64_t capacity_;
  uint64_t level_;
  uint64_t peak_;
  std::deque<Waiter> puts_;
  std::deque<Waiter> gets_;
};

}  // namespace pinfer::sim
