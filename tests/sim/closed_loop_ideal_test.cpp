// The closed-loop FIFO ideal that `pinfer bench load` compares its p99 with.
#include "pinfer/sim/closed_loop_ideal.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "pinfer/core/error.hpp"

using namespace pinfer;
using namespace pinfer::sim;

namespace {

TEST(ClosedLoopIdeal, EqualServiceTimesGiveRoundsOfLatency) {
  // 8 clients, 2 servers, 3 requests each of 1 s: the first round waits 0..3 services, every
  // later request waits for the 3 rounds ahead of it (latency 4 s = C / M * S).
  const std::vector<std::vector<double>> service(8, std::vector<double>(3, 1.0));
  std::vector<double> lat = closed_loop_fifo_latencies(service, 2);
  ASSERT_EQ(lat.size(), 24u);
  std::sort(lat.begin(), lat.end());
  EXPECT_EQ(std::count(lat.begin(), lat.end(), 1.0), 2);
  EXPECT_EQ(std::count(lat.begin(), lat.end(), 2.0), 2);
  EXPECT_EQ(std::count(lat.begin(), lat.end(), 3.0), 2);
  EXPECT_EQ(std::count(lat.begin(), lat.end(), 4.0), 18);
}

TEST(ClosedLoopIdeal, NoMoreClientsThanServersMeansNoWait) {
  const std::vector<std::vector<double>> service = {{1.0, 2.0}, {0.5}, {3.0}};
  std::vector<double> lat = closed_loop_fifo_latencies(service, 4);
  std::sort(lat.begin(), lat.end());
  EXPECT_EQ(lat, (std::vector<double>{0.5, 1.0, 2.0, 3.0}));
}

TEST(ClosedLoopIdeal, FirstComeFirstServedOnTheServerThatFreesFirst) {
  // One server: client 0 (2 s) starts at 0, client 1 (1 s) waits until 2 and finishes at 3;
  // client 0's second request arrives at 2 (before client 1's second at 3) and runs 3..4.
  const std::vector<std::vector<double>> service = {{2.0, 1.0}, {1.0, 1.0}};
  const std::vector<double> lat = closed_loop_fifo_latencies(service, 1);
  EXPECT_EQ(lat, (std::vector<double>{2.0, 3.0, 2.0, 2.0}));
}

TEST(ClosedLoopIdeal, RejectsZeroServersAndBadTimes) {
  EXPECT_THROW((void)closed_loop_fifo_latencies({{1.0}}, 0), InvalidArgument);
  EXPECT_THROW((void)closed_loop_fifo_latencies({{-1.0}}, 1), InvalidArgument);
  EXPECT_THROW((void)closed_loop_fifo_latencies({{std::nan("")}}, 1), InvalidArgument);
}

}  // namespace
