#pragma once
// LinkRelay: an emulated access link as a relay on loopback, between a client and its server.
//
// A client connects to the relay's port instead of the server's; each connection is forwarded to
// the target, with the client -> server direction paced at the uplink rate and the other at the
// downlink rate. Every connection of one relay shares its two directions (one device, one
// access link). Bytes are forwarded as they come (TLS records pass through untouched).
//
// Why a relay and not pacing inside the sending channel (TcpOptions::send_rate_mbps): a real
// link serializes bytes after the sender's write() returned, so a sender computes its next
// message while the link still carries the last one, and the receiver sees each byte only when
// the link has carried it. Pacing inside the sender blocks it for the serialization time (its
// compute cannot overlap its own link), and pacing inside the receiver idles the link whenever
// the receiver computes. The relay's pump does nothing but pace, so the kernel's socket buffers
// on both sides of it play the part of a real link's queues (docs/perf/closed_loop.md).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pinfer::transport {

struct RelayCounters {
  uint64_t up_bytes = 0;    // client -> target, forwarded
  uint64_t down_bytes = 0;  // target -> client, forwarded
  uint64_t connections = 0;
};

class LinkRelay {
 public:
  // Listens on 127.0.0.1 (ephemeral port) and forwards each connection to target_host:port.
  // A rate of 0 leaves that direction unpaced. Throws InvalidArgument on a negative or
  // non-finite rate, IoError when it cannot listen.
  LinkRelay(std::string target_host, uint16_t target_port, double uplink_mbps,
            double downlink_mbps);
  // Closes every connection (both ends) and joins the relay's threads.
  ~LinkRelay();
  LinkRelay(const LinkRelay&) = delete;
  LinkRelay& operator=(const LinkRelay&) = delete;

  [[nodiscard]] uint16_t port() const noexcept { return port_; }
  [[nodiscard]] RelayCounters counters() const;

  struct Shared;  // the buckets, counters and open sockets (link_relay.cpp)

 private:
  void accept_loop();

  std::string host_;
  uint16_t target_port_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::shared_ptr<Shared> shared_;
  std::thread acceptor_;
  std::mutex threads_mu_;
  std::vector<std::thread> pumps_;
};

}  // namespace pinfer::transport
