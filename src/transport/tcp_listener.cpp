#include "pinfer/transport/tcp_listener.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "pinfer/core/error.hpp"
#include "transport/socket_util.hpp"

namespace pinfer::transport {

TcpListener::TcpListener(std::string_view address, uint16_t port, const TcpOptions& options,
                         std::shared_ptr<const TlsServerContext> tls)
    : options_(options), tls_(std::move(tls)) {
  validate(options);
  // A listener without TLS accepts plaintext connections: only on a loopback address.
  if (!tls_) require_loopback_for_plaintext(Endpoint{std::string(address), port});
  const detail::AddrInfoList addrs = detail::resolve(address, port, true);
  const addrinfo* a = addrs.get();
  const std::string where = to_string(Endpoint{std::string(address), port});
  fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
  if (fd_ < 0) throw IoError("listen on " + where + ": socket: " + detail::errno_text(errno));
  try {
    const int one = 1;
    // A restarted server may rebind while old connections sit in TIME_WAIT.
    if (setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      throw IoError("setsockopt(SO_REUSEADDR): " + detail::errno_text(errno));
    }
    // Accepted sockets inherit the buffer sizes, which must be set before the handshake.
    detail::set_buffer_sizes(fd_, options_);
    detail::set_nonblocking(fd_);
    if (::bind(fd_, a->ai_addr, a->ai_addrlen) != 0) {
      throw IoError("bind: " + detail::errno_text(errno));
    }
    if (::listen(fd_, 64) != 0) throw IoError("listen: " + detail::errno_text(errno));
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
      throw IoError("getsockname: " + detail::errno_text(errno));
    }
    port_ = bound.ss_family == AF_INET6
                ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
                : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  } catch (const IoError& e) {
    ::close(fd_);
    throw IoError("listen on " + where + ": " + e.what());
  }
}

TcpListener::~TcpListener() {
  close();
  ::close(fd_);
}

void TcpListener::close() noexcept {
  ::shutdown(fd_, SHUT_RDWR);
}

std::unique_ptr<TcpChannel> TcpListener::accept(uint64_t timeout_ms) {
  for (;;) {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      try {
        return TcpChannel::adopt(fd, options_, tls_);
      } catch (...) {
        ::close(fd);
        throw;
      }
    }
    const int err = errno;
    if (err == EINTR || err == ECONNABORTED) continue;
    if (err != EAGAIN && err != EWOULDBLOCK) {
      throw IoError("accept on port " + std::to_string(port_) +
                    " failed: " + detail::errno_text(err));
    }
    if (!detail::wait_for(fd_, POLLIN, detail::poll_timeout(timeout_ms))) {
      throw IoError("accept on port " + std::to_string(port_) + " timed out after " +
                    std::to_string(timeout_ms) + " ms");
    }
  }
}

}  // namespace pinfer::transport
