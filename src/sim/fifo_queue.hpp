#pragma once
// Unbounded FIFO queue of items with a blocking get, as in SimPy's Store: `put` never waits;
// `co_await queue.get()` returns the oldest item, waiting until one arrives. Getters are served
// in the order they asked. Thread safety: none (one engine per thread).
#include <coroutine>
#include <cstddef>
#include <deque>
#include <optional>

#include "engine.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::sim {

template <typename T>
class FifoQueue {
 public:
  explicit FifoQueue(Engine& engine) : engine_(engine) {}
  FifoQueue(const FifoQueue&) = delete;
  FifoQueue& operator=(const FifoQueue&) = delete;

  void put(T item) {
    items_.push_back(std::move(item));
    serve();
  }

  struct Get {
    FifoQueue* queue;
    std::optional<T> item;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      queue->getters_.push_back(Getter{h, this});
      queue->serve();
    }
    T await_resume() {
      PINFER_ASSERT(item.has_value());
      return std::move(*item);
    }
  };
  [[nodiscard]] Get get() { return Get{this, std::nullopt}; }

  // Items waiting (not yet taken by a getter).
  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }

 private:
  struct Getter {
    std::coroutine_handle<> handle;
    Get* slot;  // lives in the suspended getter's frame until it resumes
  };
  void serve() {
    while (!items_.empty() && !getters_.empty()) {
      Getter g = getters_.front();
      getters_.pop_front();
      g.slot->item.emplace(std::move(items_.front()));
      items_.pop_front();
      engine_.schedule(engine_.now(), g.handle);
    }
  }

  Engine& engine_;
  std::deque<T> items_;
  std::deque<Getter> getters_;
};

}  // namespace pinfer::sim
