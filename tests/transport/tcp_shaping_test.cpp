// The only timed tests of the transport layer: bandwidth shaping is a property of time. They assert
// lower bounds only (never "finished within"), which load on the machine cannot break.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/transport/tcp_options.hpp"
#include "transport/tcp_test_util.hpp"

namespace pinfer::transport {
namespace {

// A shaped sender can never put bytes on the wire faster than its rate: a lower bound on the
// time, so a loaded machine cannot make it fail (that the link is not slower than its rate is a
// performance figure, measured by `pinfer bench net`; the pacing arithmetic itself is checked
// with a deterministic clock in token_bucket_test.cpp). Every byte arrives, and the channel
// counts exactly the frames' bytes.
TEST(TcpShaping, HundredMbitPerSecondNeverSendsFasterThanItsRate) {
  const LinkShape link{.uplink_mbps = 100, .downlink_mbps = 0};
  auto [client, server] = test::connect_pair(client_side({}, link), server_side({}, link));
  constexpr std::size_t kFrame = 1'000'000;
  constexpr int kFrames = 20;  // 20 * 10^6 bytes: 1.6 s at 12.5 MB/s
  std::vector<std::byte> frame(kFrame);
  for (std::size_t i = 0; i < kFrame; ++i) frame[i] = static_cast<std::byte>(i * 5 + 1);
  const auto t0 = std::chrono::steady_clock::now();
  std::thread sender([&c = *client, &frame] {
    for (int i = 0; i < kFrames; ++i) c.send(1, frame);
    c.flush();
  });
  std::vector<std::byte> got(kFrame);
  for (int i = 0; i < kFrames; ++i) {
    server->recv_exact(1, got);
    ASSERT_EQ(got, frame) << "frame " << i;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sender.join();
  constexpr uint64_t kWireBytes = kFrames * (kFrame + kFrameHeaderBytes);
  EXPECT_EQ(client->traffic().total.bytes_sent, kWireBytes);
  EXPECT_EQ(server->traffic().total.bytes_received, kWireBytes);
  // The send bucket grants at most one chunk (16 KiB at this rate) of burst, so at least
  // (20 MB - 16 KiB) / 12.5 MB/s = 1.5987 s.
  EXPECT_GE(seconds, (static_cast<double>(kWireBytes) - 16384) / 12.5e6);
}

// A client that paces its reads emulates its downlink against a server that does not shape:
// what it is handed can never arrive faster than the rate (a lower bound, so load on the
// machine cannot make it fail), and arrives intact.
TEST(TcpShaping, PacedReaderNeverReceivesFasterThanItsRate) {
  TcpOptions reader;
  reader.recv_rate_mbps = 100;
  auto [client, server] = test::connect_pair(reader, TcpOptions{});
  constexpr std::size_t kFrame = 1'000'000;
  constexpr int kFrames = 20;  // 20 * 10^6 bytes: 1.6 s at 12.5 MB/s
  std::vector<std::byte> frame(kFrame);
  for (std::size_t i = 0; i < kFrame; ++i) frame[i] = static_cast<std::byte>(i * 7 + 3);
  const auto t0 = std::chrono::steady_clock::now();
  std::thread sender([&s = *server, &frame] {
    for (int i = 0; i < kFrames; ++i) s.send(1, frame);
    s.flush();
  });
  std::vector<std::byte> got(kFrame);
  for (int i = 0; i < kFrames; ++i) {
    client->recv_exact(1, got);
    ASSERT_EQ(got, frame) << "frame " << i;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sender.join();
  // The bucket starts full (at most 125 kB of credit), so at least (20 MB - 125 kB) / 12.5 MB/s.
  EXPECT_GE(seconds, 1.5);
}

TEST(TcpShaping, NegativeOrNonFiniteReadRateIsRefused) {
  TcpOptions o;
  o.recv_rate_mbps = -1;
  EXPECT_THROW(validate(o), InvalidArgument);
}

}  // namespace
}  // namespace pinfer::transport
