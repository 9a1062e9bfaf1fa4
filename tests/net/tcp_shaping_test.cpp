// The only timed test of the net layer: bandwidth shaping is a property of time.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "net/tcp_test_util.hpp"

namespace pinfer::net {
namespace {

TEST(TcpShaping, HundredMbitPerSecondSendsFiftyMegabytesInFourSeconds) {
  const LinkShape link{.uplink_mbps = 100, .downlink_mbps = 0};
  auto [client, server] = test::connect_pair(client_side({}, link), server_side({}, link));
  constexpr std::size_t kFrame = 1'000'000;
  constexpr int kFrames = 50;  // 50 * 10^6 bytes
  const std::vector<std::byte> frame(kFrame, std::byte{0x5a});
  const auto t0 = std::chrono::steady_clock::now();
  std::thread sender([&c = *client, &frame] {
    for (int i = 0; i < kFrames; ++i) c.send(1, frame);
    c.flush();
  });
  std::vector<std::byte> got(kFrame);
  for (int i = 0; i < kFrames; ++i) server->recv_exact(1, got);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sender.join();
  // 50 MB at 12.5 MB/s.
  EXPECT_NEAR(seconds, 4.0, 0.4);
  EXPECT_EQ(got, frame);
}

}  // namespace
}  // namespace pinfer::net
