#include "pinfer/transport/tcp_options.hpp"

#include <climits>
#include <cmath>
#include <string>
#include <utility>

#include "pinfer/core/error.hpp"

namespace pinfer::transport {

TcpOptions client_side(TcpOptions base, const LinkShape& link) {
  base.send_rate_mbps = link.uplink_mbps;
  return base;
}

TcpOptions server_side(TcpOptions base, const LinkShape& link) {
  base.send_rate_mbps = link.downlink_mbps;
  return base;
}

void validate(const TcpOptions& o) {
  if (o.max_frame_bytes == 0) throw InvalidArgument("max_frame_bytes must be positive");
  const auto check_timeout = [](uint64_t ms, const char* name) {
    if (ms == 0 || ms > static_cast<uint64_t>(INT_MAX)) {
      throw InvalidArgument(std::string(name) + " " + std::to_string(ms) + " is outside 1.." +
                            std::to_string(INT_MAX));
    }
  };
  check_timeout(o.connect_timeout_ms, "connect_timeout_ms");
  check_timeout(o.io_timeout_ms, "io_timeout_ms");
  check_timeout(o.handshake_timeout_ms, "handshake_timeout_ms");
  if (o.socket_buffer_bytes < 0) {
    throw InvalidArgument("socket_buffer_bytes " + std::to_string(o.socket_buffer_bytes) +
                          " is negative");
  }
  for (const auto& [rate, name] : {std::pair{o.send_rate_mbps, "send_rate_mbps"},
                                   std::pair{o.recv_rate_mbps, "recv_rate_mbps"}}) {
    if (!std::isfinite(rate) || rate < 0) {
      throw InvalidArgument(std::string(name) + " " + std::to_string(rate) +
                            " must be finite and >= 0");
    }
  }
}

}  // namespace pinfer::transport
