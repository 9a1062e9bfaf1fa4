#pragma once
// Token bucket that paces a byte stream to a rate (bandwidth shaping of TcpChannel sends).
//
// The balance starts full (depth bytes), refills at rate_bytes_per_s up to depth, and may go
// negative by what a send took beyond it; a sender waits wait_time() before each write. Over a
// long transfer of B bytes the elapsed time is (B - depth) / rate, so with a shallow bucket the
// average rate is the configured one. Time is passed in, so the arithmetic is testable without
// sleeping. Thread safety: none (TcpChannel calls it under its send lock).
#include <chrono>
#include <cstddef>

namespace pinfer::net {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Throws InvalidArgument unless rate_bytes_per_s > 0 and depth_bytes > 0 (both finite).
  TokenBucket(double rate_bytes_per_s, double depth_bytes, Clock::time_point now);
  // The bucket TcpOptions::send_rate_mbps describes: rate mbps * 10^6 / 8 bytes/s, depth
  // 2 ms of that but at least 16 KiB.
  [[nodiscard]] static TokenBucket for_mbps(double mbps, Clock::time_point now);

  // How long to wait from `now` until the balance is non-negative (zero if it already is).
  [[nodiscard]] Clock::duration wait_time(Clock::time_point now);
  // Takes `bytes` sent at `now` from the balance.
  void charge(std::size_t bytes, Clock::time_point now);

  [[nodiscard]] double rate_bytes_per_s() const noexcept { return rate_; }
  [[nodiscard]] double depth_bytes() const noexcept { return depth_; }
  // Largest single write the sender should make, so pacing stays smooth.
  [[nodiscard]] std::size_t chunk_bytes() const noexcept;

 private:
  void refill(Clock::time_point now);
  double rate_;
  double depth_;
  double balance_;
  Clock::time_point last_;
};

}  // namespace pinfer::net
