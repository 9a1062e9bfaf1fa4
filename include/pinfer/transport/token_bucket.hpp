#pragma once
// Token bucket that paces a byte stream to a rate (bandwidth shaping of TcpChannel).
//
// The balance starts full (depth bytes), refills at rate_bytes_per_s up to depth, and may go
// negative. Two ways to pace:
//  * reserve-then-write (sends): reserve(n) takes n bytes and says how long to wait before
//    writing them, so a chunk leaves when an emulated link of that rate would have finished
//    serializing it; the send bucket of link_for_mbps is one chunk deep, so an idle link
//    grants at most 1 ms of burst (a real one grants none; the chunk of credit makes up for
//    sleeps that oversleep).
//  * wait-then-charge (paced reads, whose size is known only after the read): wait_time() before
//    each read, charge() what came; the depth is the credit an idle reader accumulates, as a
//    real link keeps filling the socket buffer while the reader computes.
// Over a long transfer of B bytes the elapsed time is about B / rate either way. Time is passed
// in, so the arithmetic is testable without sleeping. Thread safety: none (TcpChannel calls it
// under its send or receive lock).
#include <chrono>
#include <cstddef>

namespace pinfer::transport {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Throws InvalidArgument unless rate_bytes_per_s > 0 and depth_bytes > 0 (both finite).
  TokenBucket(double rate_bytes_per_s, double depth_bytes, Clock::time_point now);
  // The read bucket of TcpOptions::recv_rate_mbps: rate mbps * 10^6 / 8 bytes/s, depth 2 ms
  // of that but at least 16 KiB.
  [[nodiscard]] static TokenBucket for_mbps(double mbps, Clock::time_point now);
  // The send bucket of TcpOptions::send_rate_mbps: the same rate, depth one chunk_bytes().
  [[nodiscard]] static TokenBucket link_for_mbps(double mbps, Clock::time_point now);

  // How long to wait from `now` until the balance is non-negative (zero if it already is).
  [[nodiscard]] Clock::duration wait_time(Clock::time_point now);
  // Takes `bytes` sent at `now` from the balance.
  void charge(std::size_t bytes, Clock::time_point now);
  // Takes `bytes` about to be written at `now`; returns how long to wait before writing them.
  [[nodiscard]] Clock::duration reserve(std::size_t bytes, Clock::time_point now);
  // Gives back reserved bytes that were not written (a short write).
  void refund(std::size_t bytes) noexcept;

  [[nodiscard]] double rate_bytes_per_s() const noexcept { return rate_; }
  [[nodiscard]] double depth_bytes() const noexcept { return depth_; }
  // Largest single write or read to pace at once: 1 ms of rate, at least 16 KiB (one TLS
  // record), so sleeps stay well above the scheduler's granularity and pacing stays smooth.
  [[nodiscard]] std::size_t chunk_bytes() const noexcept;

 private:
  void refill(Clock::time_point now);
  double rate_;
  double depth_;
  double balance_;
  Clock::time_point last_;
};

}  // namespace pinfer::transport
