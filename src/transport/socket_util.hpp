#pragma once
// Small POSIX socket helpers shared by TcpChannel and TcpListener (private to transport).
#include <netdb.h>

#include <memory>
#include <string>
#include <string_view>

#include "pinfer/transport/tcp_options.hpp"

namespace pinfer::transport::detail {

// strerror text of `err`, e.g. "Connection reset by peer".
[[nodiscard]] std::string errno_text(int err);

// Owns an addrinfo list from getaddrinfo.
struct AddrInfoDeleter {
  void operator()(addrinfo* p) const noexcept { freeaddrinfo(p); }
};
using AddrInfoList = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// Resolves host:port for a stream socket. Throws IoError naming host and port on failure.
[[nodiscard]] AddrInfoList resolve(std::string_view host, uint16_t port, bool passive);

// O_NONBLOCK on; throws IoError on failure.
void set_nonblocking(int fd);
// Socket buffers (if requested) on a socket before connect/listen; throws IoError.
void set_buffer_sizes(int fd, const TcpOptions& options);
// TCP_NODELAY on: frames are flushed deliberately, Nagle would only add latency.
void set_nodelay(int fd);

// poll() for `events` on fd for at most timeout_ms; false on timeout. Retries on EINTR.
// Throws IoError if poll fails.
[[nodiscard]] bool wait_for(int fd, short events, int timeout_ms);

// Clamps a millisecond timeout into poll()'s int argument.
[[nodiscard]] int poll_timeout(uint64_t timeout_ms);

}  // namespace pinfer::transport::detail
