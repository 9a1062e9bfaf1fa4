#include "pinfer/transport/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::transport {

TokenBucket::TokenBucket(double rate_bytes_per_s, double depth_bytes, Clock::time_point now)
    : rate_(rate_bytes_per_s), depth_(depth_bytes), balance_(depth_bytes), last_(now) {
  if (!std::isfinite(rate_) || rate_ <= 0 || !std::isfinite(depth_) || depth_ <= 0) {
    throw InvalidArgument("token bucket rate " + std::to_string(rate_) + " B/s and depth " +
                          std::to_string(depth_) + " B must be finite and positive");
  }
}

TokenBucket TokenBucket::for_mbps(double mbps, Clock::time_point now) {
  const double rate = mbps * 1e6 / 8;
  // 2 ms of traffic: a reader that computed for a while gets at most that much at once
  // (docs/perf/closed_loop.md, "Tracing the phases"); 16 KiB keeps reads efficient at low rates.
  const double depth = std::max(rate * 0.002, 16384.0);
  return TokenBucket(rate, depth, now);
}

TokenBucket TokenBucket::link_for_mbps(double mbps, Clock::time_point now) {
  // A sender's link serializes every byte: after idle it grants at most one chunk (1 ms of
  // rate, at least 16 KiB) at once, the credit that makes up for a sleep that overslept by up
  // to that much. (A depth of 2 ms charged after each write let every message's first and last
  // 2 ms go at once, and online phases of many small messages ran their uplink 25% above the
  // rate: docs/perf/closed_loop.md.)
  const double rate = mbps * 1e6 / 8;
  return TokenBucket(rate, std::max(rate * 0.001, 16384.0), now);
}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;
  const double dt = std::chrono::duration<double>(now - last_).count();
  balance_ = std::min(depth_, balance_ + dt * rate_);
  last_ = now;
}

TokenBucket::Clock::duration TokenBucket::wait_time(Clock::time_point now) {
  refill(now);
  if (balance_ >= 0) return Clock::duration::zero();
  return std::chrono::ceil<Clock::duration>(std::chrono::duration<double>(-balance_ / rate_));
}

void TokenBucket::charge(std::size_t bytes, Clock::time_point now) {
  refill(now);
  balance_ -= static_cast<double>(bytes);
}

TokenBucket::Clock::duration TokenBucket::reserve(std::size_t bytes, Clock::time_point now) {
  charge(bytes, now);
  return wait_time(now);
}

void TokenBucket::refund(std::size_t bytes) noexcept {
  balance_ = std::min(depth_, balance_ + static_cast<double>(bytes));
}

std::size_t TokenBucket::chunk_bytes() const noexcept {
  return static_cast<std::size_t>(std::max(rate_ * 0.001, 16384.0));
}

}  // namespace pinfer::transport
