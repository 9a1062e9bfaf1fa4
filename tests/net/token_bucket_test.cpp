#include "pinfer/net/token_bucket.hpp"

#include <gtest/gtest.h>

#include "pinfer/core/error.hpp"

namespace pinfer::net {
namespace {

using Clock = TokenBucket::Clock;
using std::chrono::milliseconds;

// Time is passed in explicitly, so these tests check the arithmetic without sleeping.
TEST(TokenBucket, BurstUpToDepthThenWaitsForTheRate) {
  const Clock::time_point t0{};
  TokenBucket b(1'000'000, 50'000, t0);  // 1 MB/s, 50 kB deep
  EXPECT_EQ(b.wait_time(t0), Clock::duration::zero());
  b.charge(50'000, t0);
  EXPECT_EQ(b.wait_time(t0), Clock::duration::zero());  // exactly empty
  b.charge(100'000, t0);                                // 100 kB in debt: 100 ms
  EXPECT_EQ(std::chrono::round<milliseconds>(b.wait_time(t0)), milliseconds(100));
  EXPECT_EQ(std::chrono::round<milliseconds>(b.wait_time(t0 + milliseconds(40))), milliseconds(60));
  EXPECT_EQ(b.wait_time(t0 + milliseconds(100)), Clock::duration::zero());
}

TEST(TokenBucket, RefillIsCappedAtDepth) {
  const Clock::time_point t0{};
  TokenBucket b(1'000'000, 50'000, t0);
  // An idle hour does not bank an hour of traffic: only the depth.
  const Clock::time_point later = t0 + std::chrono::hours(1);
  b.charge(150'000, later);
  EXPECT_EQ(std::chrono::round<milliseconds>(b.wait_time(later)), milliseconds(100));
}

TEST(TokenBucket, LongTransferAveragesTheRate) {
  // A sender that waits as told and writes chunk_bytes() at a time sends B bytes in
  // (B - depth) / rate.
  Clock::time_point now{};
  TokenBucket b = TokenBucket::for_mbps(100, now);  // 12.5 MB/s
  EXPECT_DOUBLE_EQ(b.rate_bytes_per_s(), 12.5e6);
  EXPECT_DOUBLE_EQ(b.depth_bytes(), 25'000);
  const Clock::time_point start = now;
  std::size_t sent = 0;
  const std::size_t total = 50'000'000;
  while (sent < total) {
    now += b.wait_time(now);
    const std::size_t n = std::min(b.chunk_bytes(), total - sent);
    b.charge(n, now);
    sent += n;
  }
  const double seconds = std::chrono::duration<double>(now - start).count();
  EXPECT_NEAR(seconds, (50e6 - 2 * 25'000) / 12.5e6, 0.001);
}

TEST(TokenBucket, DepthIsAtLeast16KiB) {
  const TokenBucket slow = TokenBucket::for_mbps(1, Clock::time_point{});
  EXPECT_DOUBLE_EQ(slow.depth_bytes(), 16384);
}

TEST(TokenBucket, NonPositiveRateIsInvalidArgument) {
  EXPECT_THROW(TokenBucket(0, 1000, Clock::time_point{}), InvalidArgument);
  EXPECT_THROW(TokenBucket(1000, 0, Clock::time_point{}), InvalidArgument);
}

}  // namespace
}  // namespace pinfer::net
