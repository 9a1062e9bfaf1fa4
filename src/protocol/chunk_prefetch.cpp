#include "chunk_prefetch.hpp"

#include <utility>

#include "pinfer/core/cpu_time.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"

namespace pinfer::protocol::detail {
namespace {
// Chunks received ahead of the one being evaluated: one keeps the link busy while the evaluator
// works; a second absorbs jitter between the two.
constexpr std::size_t kAhead = 2;
}  // namespace

ChunkPrefetch::ChunkPrefetch(Channel& ch, uint32_t frame_type, std::vector<std::size_t> chunk_bytes)
    : ch_(ch), frame_type_(frame_type), chunk_bytes_(std::move(chunk_bytes)) {
  receiver_ = std::thread([this] { receive_all(); });
}

ChunkPrefetch::~ChunkPrefetch() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    for (std::vector<std::byte>& b : ready_) secure_wipe(b.data(), b.size());
  }
  cv_.notify_all();
  if (taken_ < chunk_bytes_.size()) ch_.close();
  if (receiver_.joinable()) receiver_.join();
}

double ChunkPrefetch::finish() {
  PINFER_ASSERT(taken_ == chunk_bytes_.size());
  if (receiver_.joinable()) receiver_.join();
  return receiver_cpu_s_;
}

void ChunkPrefetch::receive_all() {
  const double cpu0 = thread_cpu_seconds();
  try {
    for (const std::size_t bytes : chunk_bytes_) {
      std::vector<std::byte> frame(bytes);
      ch_.recv_exact(frame_type_, frame);
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || ready_.size() < kAhead; });
      if (stop_) {
        secure_wipe(frame.data(), frame.size());
        break;
      }
      ready_.push_back(std::move(frame));
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard lock(mu_);
    error_ = std::current_exception();
    cv_.notify_all();
  }
  receiver_cpu_s_ = thread_cpu_seconds() - cpu0;
}

std::vector<std::byte> ChunkPrefetch::next(PhaseCost& cost, LayerCost& layer) {
  PINFER_ASSERT(taken_ < chunk_bytes_.size());
  std::unique_lock lock(mu_);
  if (ready_.empty()) {
    ScopedTimer t(cost, Component::wait_peer, &layer);
    cv_.wait(lock, [&] { return !ready_.empty() || error_ != nullptr; });
  }
  if (ready_.empty()) std::rethrow_exception(error_);
  std::vector<std::byte> out = std::move(ready_.front());
  ready_.pop_front();
  ++taken_;
  cv_.notify_all();
  return out;
}

}  // namespace pinfer::protocol::detail
