#pragma once
// Loopback helpers for the net tests: a connected TcpChannel pair, and raw sockets that play a
// misbehaving peer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>

#include "pinfer/core/error.hpp"
#include "pinfer/net/tcp_channel.hpp"
#include "pinfer/net/tcp_listener.hpp"

namespace pinfer::net::test {

struct ChannelPair {
  std::unique_ptr<TcpChannel> client;
  std::unique_ptr<TcpChannel> server;
};

inline ChannelPair connect_pair(const TcpOptions& client_options = {},
                                const TcpOptions& server_options = {}) {
  TcpListener listener("127.0.0.1", 0, server_options);
  ChannelPair p;
  // connect() completes against the listen backlog, so one thread can do both ends.
  p.client = TcpChannel::connect("127.0.0.1", listener.port(), client_options);
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
      EXPECT_NE(std::string(e.what()).find("busy"), std::string::npos) << e.what();
      if (std::string(e.what()).find("busy") == std::string::npos) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return false;
}

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

}  // namespace pinfer::net::test
