#include "pinfer/net/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::net {

TokenBucket::TokenBucket(double rate_bytes_per_s, double depth_bytes, Clock::time_point now)
    : rate_(rate_bytes_per_s), depth_(depth_bytes), balance_(depth_bytes), last_(now) {
  if (!std::isfinite(rate_) || rate_ <= 0 || !std::isfinite(depth_) || depth_ <= 0) {
    throw InvalidArgument("token bucket rate " + std::to_string(rate_) + " B/s and depth " +
                          std::to_string(depth_) + " B must be finite and positive");
  }
}

TokenBucket TokenBucket::for_mbps(double mbps, Clock::time_point now) {
  const double rate = mbps * 1e6 / 8;
  // 2 ms of traffic: an emulated link idle for a while then grants at most two depths (about
  // 4 ms) of burst, as a real link grants none; closed-loop runs alternate directions chunk
  // after chunk and a 10 ms depth ran their links 10-20% above the configured rate
  // (docs/perf/closed_loop.md). Sleeps of 2 ms are well above the scheduler's granularity.
  // 16 KiB (one TLS record) keeps writes efficient when the rate is low.
  const double depth = std::max(rate * 0.002, 16384.0);
  return TokenBucket(rate, depth, now);
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

std::size_t TokenBucket::chunk_bytes() const noexcept {
  return static_cast<std::size_t>(depth_);
}

}  // namespace pinfer::net
