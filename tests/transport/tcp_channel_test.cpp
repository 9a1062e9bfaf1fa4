#include "pinfer/transport/tcp_channel.hpp"

#include <gtest/gtest.h>

#include "expect_message.hpp"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "pinfer/core/channel_stream.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/transport/tcp_listener.hpp"
#include "transport/tcp_test_util.hpp"

namespace pinfer::transport {
namespace {

using test::as_bytes;
using test::connect_pair;
using test::connect_raw;
using test::stream_pseudorandom_bytes;

std::vector<std::byte> pattern(std::size_t n, uint64_t seed) {
  std::vector<std::byte> v(n);
  Prg prg = Prg::from_seed(Block(seed, 0x5eed));
  prg.fill_bytes(v);
  return v;
}

using test_support::message_of;

TEST(TcpChannel, SmallEmptyAndLargeFramesRoundTrip) {
  // Named members, not a structured binding: clang 14 cannot capture bindings in lambdas.
  auto connected = connect_pair();
  auto& client = connected.client;
  auto& server = connected.server;
  const std::vector<std::byte> small = pattern(5, 1);
  const std::vector<std::byte> medium = pattern(10'000, 2);
  const std::vector<std::byte> large = pattern(3 << 20, 3);  // takes the gather-write path
  // A sender thread: a 3 MiB frame need not fit in the socket buffers.
  std::thread sender([&] {
    client->send(1, small);
    client->send(2, {});
    client->send(3, medium);
    client->send(4, large);
    client->send(5, small);  // buffered again after a large frame
    client->flush();
  });
  EXPECT_EQ(server->recv(1, 100), small);
  EXPECT_TRUE(server->recv(2, 0).empty());
  EXPECT_EQ(server->recv(3, medium.size()), medium);
  std::vector<std::byte> got(large.size());
  server->recv_exact(4, got);
  EXPECT_EQ(got, large);
  EXPECT_EQ(server->recv(5, 5), small);
  sender.join();
  // The reply direction; the client's receive flushes nothing pending, the server's send is
  // buffered until its own flush.
  server->send(6, medium);
  server->flush();
  EXPECT_EQ(client->recv(6, medium.size()), medium);
}

TEST(TcpChannel, ReceiveFlushesBufferedFramesSoRequestResponseCannotDeadlock) {
  auto connected = connect_pair();
  auto& client = connected.client;
  auto& server = connected.server;
  std::thread peer([&s = *server] {
    const auto req = s.recv(1, 16);
    s.send(2, req);  // echoed back; buffered until the server's next receive or flush
    (void)s.recv(3, 0);
  });
  client->send(1, as_bytes("ping"));  // small: buffered, no explicit flush
  EXPECT_EQ(client->recv(2, 16),
            std::vector<std::byte>(as_bytes("ping").begin(), as_bytes("ping").end()));
  client->send(3, {});
  client->flush();
  client->flush();
  peer.join();
}

TEST(TcpChannel, StreamsTwoHundredMegabytesInEightMebibyteFrames) {
  constexpr uint64_t kTotal = 200'000'000;
  TcpOptions opt;
  opt.max_frame_bytes = 8 << 20;
  auto connected = connect_pair(opt, opt);
  EXPECT_TRUE(stream_pseudorandom_bytes(*connected.client, *connected.server, kTotal,
                                        Block(0x1234, 0x5678)));
  EXPECT_GE(connected.server->traffic().total.bytes_received, kTotal);
}

TEST(TcpChannel, PeerClosingInsideHeaderIsIoErrorNamingMissingBytes) {
  auto p = connect_raw();
  const std::byte partial[5] = {};
  p.raw->write(partial);
  p.raw->close();
  const std::string msg = message_of<IoError>([&] { (void)p.channel->recv(1, 100); });
  EXPECT_NE(msg.find("frame header"), std::string::npos) << msg;
  EXPECT_NE(msg.find("7 of 12 bytes missing"), std::string::npos) << msg;
}

TEST(TcpChannel, PeerClosingInsidePayloadIsIoErrorNamingMissingBytes) {
  auto p = connect_raw();
  p.raw->write_header(7, 100);
  const std::vector<std::byte> part(40, std::byte{0xab});
  p.raw->write(part);
  p.raw->close();
  const std::string msg = message_of<IoError>([&] { (void)p.channel->recv(7, 100); });
  EXPECT_NE(msg.find("payload of frame type 7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("60 of 100 bytes missing"), std::string::npos) << msg;
}

TEST(TcpChannel, PeerClosingBetweenFramesIsIoError) {
  auto p = connect_raw();
  p.raw->close();
  EXPECT_THROW((void)p.channel->recv(1, 100), IoError);
}

TEST(TcpChannel, HugeAnnouncedLengthIsFormatErrorBeforeAllocating) {
  auto p = connect_raw();
  p.raw->write_header(7, uint64_t{1} << 40);
  // The caller's cap is unlimited; the channel's max_frame_bytes must still stop it (a 1 TiB
  // allocation would throw bad_alloc instead).
  const std::string msg = message_of<FormatError>([&] { (void)p.channel->recv(7, SIZE_MAX); });
  EXPECT_NE(msg.find("1099511627776"), std::string::npos) << msg;
}

TEST(TcpChannel, LengthAboveCallerCapIsFormatError) {
  auto p = connect_raw();
  p.raw->write_header(7, 101);
  EXPECT_THROW((void)p.channel->recv(7, 100), FormatError);
}

TEST(TcpChannel, WrongTypeIsProtocolError) {
  auto connected = connect_pair();
  auto& client = connected.client;
  auto& server = connected.server;
  client->send(3, as_bytes("x"));
  client->flush();  // small frames wait in the send buffer until flushed
  const std::string msg = message_of<ProtocolError>([&] { (void)server->recv(4, 10); });
  EXPECT_NE(msg.find("expected frame type 4, received type 3"), std::string::npos) << msg;
}

TEST(TcpChannel, PeerErrorFrameIsProtocolErrorWithItsMessage) {
  auto connected = connect_pair();
  auto& client = connected.client;
  auto& server = connected.server;
  client->send_error("model file is corrupt");
  const std::string msg = message_of<ProtocolError>([&] { (void)server->recv(4, 10); });
  EXPECT_NE(msg.find("model file is corrupt"), std::string::npos) << msg;
}

TEST(TcpChannel, ReceiveTimeoutIsIoError) {
  TcpOptions opt;
  opt.io_timeout_ms = 100;
  auto connected = connect_pair({}, opt);
  auto& server = connected.server;
  const std::string msg = message_of<IoError>([&] { (void)server->recv(1, 10); });
  EXPECT_NE(msg.find("timed out after 100 ms"), std::string::npos) << msg;
}

TEST(TcpChannel, ReceiveTimeoutBetweenFramesCanBeRetried) {
  TcpOptions opt;
  opt.io_timeout_ms = 50;
  auto connected = connect_pair({}, opt);
  auto& client = connected.client;
  auto& server = connected.server;
  EXPECT_THROW((void)server->recv(1, 10), IoError);
  client->send(1, as_bytes("late"));
  client->flush();
  EXPECT_EQ(server->recv(1, 10).size(), 4u);
}

TEST(TcpChannel, TimeoutInsideAFrameLeavesTheChannelUnusable) {
  TcpOptions opt;
  opt.io_timeout_ms = 50;
  auto p = connect_raw(opt);
  p.raw->write_header(7, 100);
  p.raw->write(std::vector<std::byte>(10));
  EXPECT_THROW((void)p.channel->recv(7, 100), IoError);
  // The rest arrives later, followed by a whole frame: it must not be misparsed.
  p.raw->write(std::vector<std::byte>(90));
  p.raw->write_header(7, 0);
  const std::string msg = message_of<IoError>([&] { (void)p.channel->recv(7, 100); });
  EXPECT_NE(msg.find("out of sync"), std::string::npos) << msg;
}

TEST(TcpChannel, SendTimeoutIsIoErrorWhenPeerStopsReading) {
  TcpOptions opt;
  opt.io_timeout_ms = 100;
  opt.socket_buffer_bytes = 64 << 10;  // small buffers fill quickly
  auto connected = connect_pair(opt, opt);
  auto& client = connected.client;
  const std::vector<std::byte> frame(1 << 20);
  const std::string msg = message_of<IoError>([&] {
    for (int i = 0; i < 1000; ++i) client->send(1, frame);
  });
  EXPECT_NE(msg.find("timed out after 100 ms"), std::string::npos) << msg;
}

TEST(TcpChannel, ConnectionResetIsIoError) {
  auto p = connect_raw();
  p.raw->write_header(7, 100);
  p.raw->reset();
  EXPECT_THROW((void)p.channel->recv(7, 100), IoError);
}

TEST(TcpChannel, SendingToClosedPeerIsIoErrorNotSigpipe) {
  auto p = connect_raw();
  p.raw->close();
  const std::vector<std::byte> frame(1 << 20);
  // The first writes may still be accepted by the kernel; the RST that answers them turns
  // later writes into EPIPE/ECONNRESET, which must surface as IoError (SIGPIPE would kill us).
  EXPECT_THROW(
      {
        for (int i = 0; i < 1000; ++i) p.channel->send(1, frame);
      },
      IoError);
}

TEST(TcpChannel, CloseWakesBlockedReceiveWithIoError) {
  auto connected = connect_pair();
  auto& server = connected.server;
  std::thread closer([&s = *server] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    s.close();
  });
  EXPECT_THROW((void)server->recv(1, 10), IoError);
  closer.join();
  EXPECT_THROW(server->send(1, as_bytes("late")), IoError);
}

TEST(TcpChannel, PeerCloseAfterFramesDeliversThemThenIoError) {
  auto connected = connect_pair();
  auto& client = connected.client;
  auto& server = connected.server;
  client->send(1, as_bytes("last words"));
  client->close();  // flushes the buffered frame first
  EXPECT_EQ(server->recv(1, 100).size(), 10u);
  EXPECT_THROW((void)server->recv(1, 100), IoError);
}

TEST(TcpChannel, TrafficCountersPerPhaseMatchOnBothSides) {
  auto connected = connect_pair();
  auto& client = connected.client;
  auto& server = connected.server;
  client->set_phase("offline");
  server->set_phase("offline");
  client->send(1, pattern(1000, 1));
  client->send(1, pattern(200'000, 2));
  (void)server->recv(1, 1000);
  (void)server->recv(1, 200'000);
  server->send(2, pattern(77, 3));
  server->flush();
  (void)client->recv(2, 77);
  client->set_phase("online");
  server->set_phase("online");
  client->send(3, {});
  client->flush();
  (void)server->recv(3, 0);
  server->send(4, pattern(5, 4));
  server->flush();
  (void)client->recv(4, 5);

  const uint64_t h = kFrameHeaderBytes;
  const TrafficReport c = client->traffic();
  const TrafficReport s = server->traffic();
  EXPECT_EQ(c.by_phase.at("offline").bytes_sent, 2 * h + 201'000);
  EXPECT_EQ(c.by_phase.at("offline").bytes_received, h + 77);
  EXPECT_EQ(c.by_phase.at("online").bytes_sent, h);
  EXPECT_EQ(c.by_phase.at("online").bytes_received, h + 5);
  EXPECT_EQ(s.by_phase.at("offline").bytes_received, 2 * h + 201'000);
  EXPECT_EQ(s.by_phase.at("offline").bytes_sent, h + 77);
  EXPECT_EQ(s.by_phase.at("online").bytes_received, h);
  EXPECT_EQ(s.by_phase.at("online").bytes_sent, h + 5);
  EXPECT_EQ(c.total.bytes_sent, s.total.bytes_received);
  EXPECT_EQ(c.total.bytes_received, s.total.bytes_sent);
  EXPECT_EQ(c.total.bytes_sent, 3 * h + 201'000);
}

TEST(TcpChannel, SendAboveMaxFrameBytesIsInvalidArgument) {
  TcpOptions opt;
  opt.max_frame_bytes = 1000;
  auto connected = connect_pair(opt, opt);
  auto& client = connected.client;
  EXPECT_THROW(client->send(1, pattern(1001, 1)), InvalidArgument);
}

TEST(TcpChannel, ConnectToPortZeroIsInvalidArgument) {
  EXPECT_THROW((void)TcpChannel::connect_plaintext_loopback("127.0.0.1", 0), InvalidArgument);
}

TEST(TcpChannel, ConnectRefusedIsIoError) {
  uint16_t port = 0;
  {
    TcpListener listener;
    port = listener.port();
  }  // closed: nothing listens there now
  EXPECT_THROW((void)TcpChannel::connect_plaintext_loopback("127.0.0.1", port), IoError);
}

// Plaintext is asked for by name and checked in the library: a non-loopback host is refused
// with a typed reason before anything is resolved or sent, on both ends.
TEST(TcpChannel, PlaintextToANonLoopbackHostIsRefusedWithItsReason) {
  for (const char* host : {"192.0.2.1", "0.0.0.0", "example.org"}) {
    try {
      (void)TcpChannel::connect_plaintext_loopback(host, 9);
      ADD_FAILURE() << "plaintext connect to " << host << " accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.reason(), ErrorReason::plaintext_refused) << e.what();
    }
  }
  try {
    TcpListener open_listener("0.0.0.0", 0);
    ADD_FAILURE() << "plaintext listener on 0.0.0.0 accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.reason(), ErrorReason::plaintext_refused) << e.what();
  }
}

TEST(TcpChannel, ConnectByEndpoint) {
  TcpListener listener;
  auto client = TcpChannel::connect_plaintext_loopback(
      parse_endpoint("127.0.0.1:" + std::to_string(listener.port())));
  auto server = listener.accept(10'000);
  client->send(1, as_bytes("hi"));
  client->flush();
  EXPECT_EQ(server->recv(1, 2).size(), 2u);
}

TEST(TcpListener, AcceptTimeoutIsIoError) {
  TcpListener listener;
  EXPECT_NE(listener.port(), 0);
  const std::string msg = message_of<IoError>([&] { (void)listener.accept(50); });
  EXPECT_NE(msg.find("timed out after 50 ms"), std::string::npos) << msg;
}

TEST(TcpListener, CloseWakesAPendingAccept) {
  TcpListener listener;
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    listener.close();
  });
  EXPECT_THROW((void)listener.accept(10'000), IoError);
  closer.join();
}

TEST(TcpListener, BindingABusyPortIsIoError) {
  TcpListener first;
  // SO_REUSEADDR does not allow two listeners on one port.
  EXPECT_THROW(TcpListener("127.0.0.1", first.port()), IoError);
}

TEST(TcpOptions, InvalidValuesAreRejected) {
  TcpOptions o;
  o.io_timeout_ms = 0;
  EXPECT_THROW(validate(o), InvalidArgument);
  o = {};
  o.max_frame_bytes = 0;
  EXPECT_THROW(validate(o), InvalidArgument);
  o = {};
  o.send_rate_mbps = -1;
  EXPECT_THROW(validate(o), InvalidArgument);
  o = {};
  o.connect_timeout_ms = uint64_t{1} << 40;
  EXPECT_THROW(validate(o), InvalidArgument);
  EXPECT_THROW(TcpListener("127.0.0.1", 0, o), InvalidArgument);
  EXPECT_NO_THROW(validate(TcpOptions{}));
}

TEST(TcpOptions, LinkShapeSetsUplinkForClientAndDownlinkForServer) {
  const LinkShape link{.uplink_mbps = 10, .downlink_mbps = 200};
  EXPECT_EQ(client_side({}, link).send_rate_mbps, 10);
  EXPECT_EQ(server_side({}, link).send_rate_mbps, 200);
}

}  // namespace
}  // namespace pinfer::transport
