#pragma once
// Loopback helpers for the transport and service tests: a connected TcpChannel pair, and raw
// sockets that play a misbehaving peer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pinfer/core/channel_stream.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/transport/tcp_channel.hpp"
#include "pinfer/transport/tcp_listener.hpp"

namespace pinfer::transport::test {

struct ChannelPair {
  std::unique_ptr<TcpChannel> client;
  std::unique_ptr<TcpChannel> server;
};

inline ChannelPair connect_pair(const TcpOptions& client_options = {},
                                const TcpOptions& server_options = {}) {
  TcpListener listener("127.0.0.1", 0, server_options);
  ChannelPair p;
  // connect() completes against the listen backlog, so one thread can do both ends.
  p.client = TcpChannel::connect_plaintext_loopback("127.0.0.1", listener.port(), client_options);
  p.server = listener.accept(10'000);
  return p;
}

// A blocking raw socket connected to 127.0.0.1:port; closes on destruction.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    EXPECT_GE(fd_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ~RawSocket() { close(); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  void write(std::span<const std::byte> bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void write_header(uint32_t type, uint64_t length) {
    std::byte h[kFrameHeaderBytes];
    std::memcpy(h, &type, 4);
    std::memcpy(h + 4, &length, 8);
    write(h);
  }
  // Closes with RST instead of FIN (SO_LINGER with zero timeout).
  void reset() {
    const linger l{1, 0};
    ASSERT_EQ(setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
    close();
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// A raw peer connected to a listener's accepted TcpChannel.
struct RawPair {
  std::unique_ptr<RawSocket> raw;
  std::unique_ptr<TcpChannel> channel;
};

inline RawPair connect_raw(const TcpOptions& options = {}) {
  TcpListener listener("127.0.0.1", 0, options);
  RawPair p;
  p.raw = std::make_unique<RawSocket>(listener.port());
  p.channel = listener.accept(10'000);
  return p;
}

// Runs `attempt(i)` until it returns true (served), accepting only "server busy" refusals in
// between (50 ms apart). At most 100 attempts, so a slot that never frees fails the test
// instead of hanging it. Returns whether a client was served.
template <typename Attempt>
bool served_once_free(Attempt attempt) {
  for (int i = 0; i < 100; ++i) {
    try {
      if (attempt(i)) return true;
    } catch (const ProtocolError& e) {
      // Told apart by its reason, never by its text.
      EXPECT_EQ(e.reason(), ErrorReason::server_busy) << e.what();
      if (e.reason() != ErrorReason::server_busy) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return false;
}

// Streams `total` pseudorandom bytes (from `seed`) from `from` to `to` through
// ChannelStreamWriter/Reader in 8 MiB frames, written in odd-sized pieces so they straddle frame
// boundaries. Returns whether the receiver got exactly those bytes.
inline bool stream_pseudorandom_bytes(Channel& from, Channel& to, uint64_t total, Block seed) {
  static constexpr std::size_t kPiece = 999'983;
  std::thread writer([&from, total, seed] {
    ChannelStreamWriter w(from, 9, total, 8 << 20);
    Prg prg = Prg::from_seed(seed);
    std::vector<std::byte> piece(kPiece);
    for (uint64_t done = 0; done < total;) {
      const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(kPiece, total - done));
      prg.fill_bytes(std::span(piece).first(n));
      w.write(std::span(piece).first(n));
      done += n;
    }
    w.finish();
  });
  ChannelStreamReader r(to, 9, total, 8 << 20);
  EXPECT_EQ(r.total(), total);
  Prg expect = Prg::from_seed(seed);
  std::vector<std::byte> got(kPiece), want(kPiece);
  bool equal = true;
  for (uint64_t done = 0; done < total;) {
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(kPiece, total - done));
    r.read(std::span(got).first(n));
    expect.fill_bytes(std::span(want).first(n));
    equal = equal && std::equal(got.begin(), got.begin() + n, want.begin());
    done += n;
  }
  r.finish();
  writer.join();
  return equal;
}

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

}  // namespace pinfer::transport::test
