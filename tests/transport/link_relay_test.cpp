// LinkRelay: bytes pass intact both ways, counted; the end of a stream passes through; a relay
// destroyed with connections open closes them instead of hanging.
#include "pinfer/transport/link_relay.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/transport/tcp_channel.hpp"
#include "pinfer/transport/tcp_listener.hpp"

namespace pinfer::transport {
namespace {

std::vector<std::byte> random_bytes(std::size_t n) {
  std::vector<std::byte> v(n);
  Prg().fill_bytes(v);
  return v;
}

// One exchange through the relay: `up` from client to server, then `down` back.
void exchange(LinkRelay& relay, TcpListener& server, const std::vector<std::byte>& up,
              const std::vector<std::byte>& down) {
  auto client = TcpChannel::connect_plaintext_loopback("127.0.0.1", relay.port(), TcpOptions{});
  auto peer = server.accept(10'000);
  std::thread sender([&] {
    client->send(7, up);
    client->flush();
  });
  std::vector<std::byte> got_up(up.size());
  peer->recv_exact(7, got_up);
  sender.join();
  EXPECT_EQ(got_up, up);
  peer->send(8, down);
  peer->flush();
  std::vector<std::byte> got_down(down.size());
  client->recv_exact(8, got_down);
  EXPECT_EQ(got_down, down);
}

TEST(LinkRelay, ForwardsBothWaysIntactAndCountsTheBytes) {
  TcpListener server("127.0.0.1", 0, TcpOptions{});
  for (const auto& [up, down] : {std::pair{0.0, 0.0}, std::pair{400.0, 800.0}}) {
    LinkRelay relay("127.0.0.1", server.port(), up, down);
    const auto a = random_bytes(1 << 20), b = random_bytes(3 << 19);
    exchange(relay, server, a, b);
    const RelayCounters c = relay.counters();
    EXPECT_EQ(c.connections, 1u);
    // Frames carry a header: the relay saw at least the payload, and not more than a few
    // headers' worth on top of it.
    EXPECT_GE(c.up_bytes, a.size());
    EXPECT_LE(c.up_bytes, a.size() + 64);
    EXPECT_GE(c.down_bytes, b.size());
    EXPECT_LE(c.down_bytes, b.size() + 64);
  }
}

TEST(LinkRelay, TheEndOfAStreamPassesThrough) {
  TcpListener server("127.0.0.1", 0, TcpOptions{});
  LinkRelay relay("127.0.0.1", server.port(), 100, 100);
  auto client = TcpChannel::connect_plaintext_loopback("127.0.0.1", relay.port(), TcpOptions{});
  auto peer = server.accept(10'000);
  client.reset();  // the client goes away: the server must see its connection end
  std::vector<std::byte> buf(16);
  EXPECT_THROW(peer->recv_exact(1, buf), IoError);
}

TEST(LinkRelay, DestroyedWithOpenConnectionsClosesThem) {
  TcpListener server("127.0.0.1", 0, TcpOptions{});
  auto relay = std::make_unique<LinkRelay>("127.0.0.1", server.port(), 50, 50);
  auto client = TcpChannel::connect_plaintext_loopback("127.0.0.1", relay->port(), TcpOptions{});
  auto peer = server.accept(10'000);
  relay.reset();  // must not wait for either end
  std::vector<std::byte> buf(16);
  EXPECT_THROW(client->recv_exact(1, buf), IoError);
  EXPECT_THROW(peer->recv_exact(1, buf), IoError);
}

TEST(LinkRelay, RefusesABadRate) {
  EXPECT_THROW(LinkRelay("127.0.0.1", 1, -1, 0), InvalidArgument);
  EXPECT_THROW(LinkRelay("127.0.0.1", 1, 0, std::nan("")), InvalidArgument);
}

TEST(LinkRelay, AnUnreachableTargetClosesTheClient) {
  uint16_t unused = 0;
  {
    TcpListener probe("127.0.0.1", 0, TcpOptions{});
    unused = probe.port();  // free again once the listener is gone
  }
  LinkRelay relay("127.0.0.1", unused, 0, 0);
  auto client = TcpChannel::connect_plaintext_loopback("127.0.0.1", relay.port(), TcpOptions{});
  std::vector<std::byte> buf(16);
  EXPECT_THROW(client->recv_exact(1, buf), IoError);
}

}  // namespace
}  // namespace pinfer::transport
