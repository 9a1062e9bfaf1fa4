#include "pinfer/transport/token_bucket.hpp"

#include <gtest/gtest.h>

#include "pinfer/core/error.hpp"

namespace pinfer::transport {
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
  // A reader that waits as told and charges chunk_bytes() at a time takes B bytes in
  // (B - depth - last chunk) / rate: the depth is its credit, the last chunk's debt is paid by
  // whatever it does next.
  Clock::time_point now{};
  TokenBucket b = TokenBucket::for_mbps(100, now);  // 12.5 MB/s
  EXPECT_DOUBLE_EQ(b.rate_bytes_per_s(), 12.5e6);
  EXPECT_DOUBLE_EQ(b.depth_bytes(), 25'000);
  EXPECT_EQ(b.chunk_bytes(), 16'384u);  // 1 ms of 12.5 MB/s is less than one TLS record
  const Clock::time_point start = now;
  std::size_t sent = 0, last = 0;
  const std::size_t total = 50'000'000;
  while (sent < total) {
    now += b.wait_time(now);
    last = std::min(b.chunk_bytes(), total - sent);
    b.charge(last, now);
    sent += last;
  }
  const double seconds = std::chrono::duration<double>(now - start).count();
  EXPECT_NEAR(seconds, (50e6 - 25'000 - static_cast<double>(last)) / 12.5e6, 0.001);
}

TEST(TokenBucket, SendLinkGrantsAtMostOneChunkAfterIdle) {
  // The send bucket pays before it writes and is one chunk (1 ms, 12.5 kB at 100 Mbit/s; here
  // 16 KiB) deep: after an hour idle, 16 KiB go at once and the next 12.5 kB wait their 1 ms.
  const Clock::time_point t0{};
  TokenBucket link = TokenBucket::link_for_mbps(100, t0);
  EXPECT_DOUBLE_EQ(link.depth_bytes(), 16'384);
  const Clock::time_point later = t0 + std::chrono::hours(1);
  EXPECT_EQ(link.reserve(16'384, later), Clock::duration::zero());
  EXPECT_NEAR(std::chrono::duration<double>(link.reserve(12'500, later)).count(), 0.001, 1e-6);
  // A short write gives back what it did not send: the next chunk waits only for its own bytes.
  link.refund(12'500);
  EXPECT_NEAR(std::chrono::duration<double>(link.reserve(25'000, later)).count(), 0.002, 1e-6);
}

TEST(TokenBucket, SendLinkTakesExactlyTheSerializationTime) {
  // Messages with idle gaps between them: each takes its bytes / rate less the one chunk of
  // credit the gap restores, whatever the gaps.
  Clock::time_point now{};
  TokenBucket link = TokenBucket::link_for_mbps(1000, now);  // 125 MB/s, chunks of 125 kB
  EXPECT_EQ(link.chunk_bytes(), 125'000u);
  double busy = 0;
  for (int message = 0; message < 100; ++message) {
    const Clock::time_point begin = now;
    for (std::size_t sent = 0; sent < 1'000'000;) {
      const std::size_t n = std::min(link.chunk_bytes(), 1'000'000 - sent);
      now += link.reserve(n, now);
      sent += n;
    }
    busy += std::chrono::duration<double>(now - begin).count();
    now += std::chrono::milliseconds(5);  // the sender computes between messages
  }
  EXPECT_NEAR(busy, 100 * (1e6 - 125e3) / 125e6, 1e-4);
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
}  // namespace pinfer::transport
