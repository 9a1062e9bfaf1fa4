#pragma once
// Settings of a TCP channel: frame cap, timeouts, socket buffers and bandwidth shaping.
#include <cstddef>
#include <cstdint>

#include "pinfer/core/channel.hpp"

namespace pinfer::transport {

struct TcpOptions {
  // Largest frame payload this side accepts or sends (checked before any allocation).
  std::size_t max_frame_bytes = kDefaultMaxFrameBytes;
  // Longest wait for a connection to be established (connect) or accepted (listener).
  uint64_t connect_timeout_ms = 10'000;
  // Longest wait for progress of any single read or write; on expiry the operation throws
  // IoError("... timed out after N ms"). A slow peer that keeps making progress is fine.
  uint64_t io_timeout_ms = 300'000;
  // A received frame's payload must arrive whole within io_timeout_ms plus its length at this
  // rate, so a peer trickling bytes, each read just under io_timeout_ms, cannot hold a
  // connection (a server session) for long. 0: no frame deadline.
  uint64_t min_recv_bytes_per_s = 64 * 1024;
  // Longest a TLS handshake may take in total (not per step): a client that connects and says
  // nothing is dropped after this, freeing its session slot.
  uint64_t handshake_timeout_ms = 10'000;
  // SO_SNDBUF / SO_RCVBUF request (the kernel caps it at net.core.[wr]mem_max); 0 keeps the
  // kernel's autotuning. Large buffers keep loopback and fast links saturated.
  int socket_buffer_bytes = 4 << 20;
  // Bandwidth shaping of this side's sends in Mbit/s (10^6 bits/s); 0 = unshaped. A token
  // bucket meters every byte on the wire (headers included); its depth is 2 ms of traffic at
  // this rate but at least 16 KiB, so bursts above the rate are at most twice that large.
  double send_rate_mbps = 0;
  // Pacing of this side's reads in Mbit/s (payload bytes handed to the caller); 0 = unpaced.
  // A client that paces both directions emulates its own access link against any server: the
  // peer's sends back up in the socket buffers and then proceed at this rate.
  double recv_rate_mbps = 0;
};

// A simulated link: the client's sends travel the uplink, the server's the downlink.
struct LinkShape {
  double uplink_mbps = 0;    // 0 = unshaped
  double downlink_mbps = 0;  // 0 = unshaped
};

// `base` with send_rate_mbps set for the side that plays the client (uplink); its reads are
// not paced here (the server's sends are), so a link is never shaped twice.
[[nodiscard]] TcpOptions client_side(TcpOptions base, const LinkShape& link);
// `base` with send_rate_mbps set for the side that plays the server (downlink).
[[nodiscard]] TcpOptions server_side(TcpOptions base, const LinkShape& link);

// Throws InvalidArgument naming the field if an option is out of range (zero frame cap or
// timeout, timeout above INT32_MAX ms, negative or non-finite rate).
void validate(const TcpOptions& options);

}  // namespace pinfer::transport
