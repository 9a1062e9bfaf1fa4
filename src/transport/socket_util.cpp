#include "transport/socket_util.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "pinfer/core/error.hpp"

namespace pinfer::transport::detail {

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message (possibly not in buf).
  return std::string(strerror_r(err, buf, sizeof buf));
}

AddrInfoList resolve(std::string_view host, uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  const std::string host_str(host);
  const std::string port_str = std::to_string(port);
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(host_str.c_str(), port_str.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    throw IoError("cannot resolve '" + host_str + "' port " + port_str + ": " +
                  (rc == EAI_SYSTEM ? errno_text(errno) : std::string(gai_strerror(rc))));
  }
  return AddrInfoList(result);
}

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    throw IoError("fcntl(O_NONBLOCK) failed: " + errno_text(errno));
  }
}

void set_buffer_sizes(int fd, const TcpOptions& options) {
  const int bytes = options.socket_buffer_bytes;
  if (bytes <= 0) return;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0) {
    throw IoError("setsockopt(SO_SNDBUF/SO_RCVBUF " + std::to_string(bytes) +
                  ") failed: " + errno_text(errno));
  }
}

void set_nodelay(int fd) {
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    throw IoError("setsockopt(TCP_NODELAY) failed: " + errno_text(errno));
  }
}

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int rc = poll(&p, 1, timeout_ms);
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) throw IoError("poll failed: " + errno_text(errno));
  }
}

int poll_timeout(uint64_t timeout_ms) {
  return timeout_ms > static_cast<uint64_t>(INT_MAX) ? INT_MAX : static_cast<int>(timeout_ms);
}

}  // namespace pinfer::transport::detail
