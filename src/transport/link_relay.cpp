#include "pinfer/transport/link_relay.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>

#include "pinfer/core/error.hpp"
#include "pinfer/transport/token_bucket.hpp"
#include "socket_util.hpp"

namespace pinfer::transport {

struct LinkRelay::Shared {
  std::mutex mu;
  std::optional<TokenBucket> up, down;  // the access link's two directions; guarded by mu
  RelayCounters counters;               // guarded by mu
  std::set<int> open;                   // relayed sockets not yet closed; guarded by mu
  std::atomic<bool> stopping{false};
};

namespace {

std::optional<TokenBucket> link_bucket(double mbps, const char* which) {
  if (!std::isfinite(mbps) || mbps < 0) {
    throw InvalidArgument(std::string("link relay: ") + which + " rate " + std::to_string(mbps) +
                          " Mbit/s must be finite and >= 0");
  }
  if (mbps == 0) return std::nullopt;
  return TokenBucket::link_for_mbps(mbps, TokenBucket::Clock::now());
}

// One connection's two sockets; the second pump to finish closes both.
struct Connection {
  int client_fd;
  int target_fd;
  std::atomic<int> pumps_left{2};
};

bool send_all(int fd, const std::byte* data, std::size_t n) {
  while (n > 0) {
    const ssize_t sent = ::send(fd, data, n, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += sent;
    n -= static_cast<std::size_t>(sent);
  }
  return true;
}

void close_connection(LinkRelay::Shared& shared, Connection& c) {
  std::lock_guard lock(shared.mu);
  for (const int fd : {c.client_fd, c.target_fd}) {
    shared.open.erase(fd);
    ::close(fd);
  }
}

// Forwards `in` to `out` until EOF or an error, each chunk paid for on `bucket` before it is
// written (the link has serialized it), then half-closes `out` so the far end sees the EOF.
void pump(LinkRelay::Shared& shared, const std::shared_ptr<Connection>& c, bool up) {
  const int in = up ? c->client_fd : c->target_fd;
  const int out = up ? c->target_fd : c->client_fd;
  std::optional<TokenBucket>& bucket = up ? shared.up : shared.down;
  std::size_t chunk = 256 << 10;
  {
    std::lock_guard lock(shared.mu);
    if (bucket) chunk = bucket->chunk_bytes();
  }
  std::vector<std::byte> buf(chunk);
  for (;;) {
    const ssize_t got = ::read(in, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    const auto n = static_cast<std::size_t>(got);
    TokenBucket::Clock::duration wait{};
    {
      std::lock_guard lock(shared.mu);
      if (bucket) wait = bucket->reserve(n, TokenBucket::Clock::now());
      (up ? shared.counters.up_bytes : shared.counters.down_bytes) += n;
    }
    if (wait > TokenBucket::Clock::duration::zero()) std::this_thread::sleep_for(wait);
    if (!send_all(out, buf.data(), n)) break;
  }
  // EOF or error: pass the end on, and stop reading what can no longer be delivered.
  ::shutdown(out, SHUT_WR);
  ::shutdown(in, SHUT_RD);
  if (c->pumps_left.fetch_sub(1) == 1) close_connection(shared, *c);
}

int connect_to(const std::string& host, uint16_t port) {
  const detail::AddrInfoList addrs = detail::resolve(host, port, false);
  for (addrinfo* a = addrs.get(); a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
    ::close(fd);
  }
  return -1;
}

}  // namespace

LinkRelay::LinkRelay(std::string target_host, uint16_t target_port, double uplink_mbps,
                     double downlink_mbps)
    : host_(std::move(target_host)),
      target_port_(target_port),
      shared_(std::make_shared<Shared>()) {
  shared_->up = link_bucket(uplink_mbps, "uplink");
  shared_->down = link_bucket(downlink_mbps, "downlink");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw IoError("link relay: socket: " + detail::errno_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(listen_fd_);
    throw IoError("link relay: cannot listen on 127.0.0.1: " + detail::errno_text(err));
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

LinkRelay::~LinkRelay() {
  shared_->stopping.store(true);
  acceptor_.join();
  ::close(listen_fd_);
  {
    // Wake every pump blocked in read() or send(); each then closes its connection.
    std::lock_guard lock(shared_->mu);
    for (const int fd : shared_->open) ::shutdown(fd, SHUT_RDWR);
  }
  std::lock_guard lock(threads_mu_);
  for (std::thread& t : pumps_) t.join();
}

RelayCounters LinkRelay::counters() const {
  std::lock_guard lock(shared_->mu);
  return shared_->counters;
}

void LinkRelay::accept_loop() {
  while (!shared_->stopping.load()) {
    if (!detail::wait_for(listen_fd_, POLLIN, 50)) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;  // the peer gave up before we accepted: nothing to relay
    const int target = connect_to(host_, target_port_);
    if (target < 0) {
      ::close(client);  // the client sees its connection closed, as with an unreachable server
      continue;
    }
    try {
      detail::set_nodelay(client);
      detail::set_nodelay(target);
    } catch (const IoError&) {
      ::close(client);
      ::close(target);
      continue;
    }
    auto c = std::make_shared<Connection>();
    c->client_fd = client;
    c->target_fd = target;
    {
      std::lock_guard lock(shared_->mu);
      shared_->open.insert(client);
      shared_->open.insert(target);
      ++shared_->counters.connections;
    }
    std::lock_guard lock(threads_mu_);
    pumps_.emplace_back([s = shared_, c] { pump(*s, c, true); });
    pumps_.emplace_back([s = shared_, c] { pump(*s, c, false); });
  }
}

}  // namespace pinfer::transport
