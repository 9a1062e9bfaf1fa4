#include "container.hpp"

#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::sim {

Container::Container(Engine& engine, uint64_t capacity, uint64_t initial_level)
    : engine_(engine), capacity_(capacity), level_(initial_level), peak_(initial_level) {
  if (initial_level > capacity) {
    throw InvalidArgument("container initial level " + std::to_string(initial_level) +
                          " exceeds capacity " + std::to_string(capacity));
  }
}

Container::Request Container::put(uint64_t amount) {
  if (amount > capacity_) {
    throw InvalidArgument("container put of " + std::to_string(amount) + " exceeds capacity " +
                          std::to_string(capacity_));
  }
  return Request{this, amount, true};
}

Container::Request Container::get(uint64_t amount) {
  if (amount > capacity_) {
    throw InvalidArgument("container get of " + std::to_string(amount) + " exceeds capacity " +
                          std::to_string(capacity_));
  }
  return Request{this, amount, false};
}

void Container::enqueue(std::coroutine_handle<> h, uint64_t amount, bool is_put) {
  (is_put ? puts_ : gets_).push_back(Waiter{h, amount});
  serve();
}

void Container::serve() {
  bool progress = true;
  while (progress) {
    progress = false;
    if (!puts_.empty() && puts_.front().amount <= capacity_ - level_) {
      level_ += puts_.front().amount;
      if (level_ > peak_) peak_ = level_;
      PINFER_ASSERT(level_ <= capacity_);
      engine_.schedule(engine_.now(), puts_.front().handle);
      puts_.pop_front();
      progress = true;
    }
    if (!gets_.empty() && gets_.front().amount <= level_) {
      level_ -= gets_.front().amount;
      engine_.schedule(engine_.now(), gets_.front().handle);
      gets_.pop_front();
      progress = true;
    }
  }
}

}  // namespace pinfer::sim
