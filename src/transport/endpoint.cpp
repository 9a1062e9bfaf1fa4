#include "pinfer/transport/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "pinfer/core/error.hpp"

namespace pinfer::transport {

Endpoint parse_endpoint(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return InvalidArgument("endpoint '" + std::string(text) + "': " + why +
                           " (expected host:port)");
  };
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    // [ipv6]:port: the address itself contains colons.
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) throw bad("missing ']' after IPv6 address");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') throw bad("missing ':' before the port");
    port = rest.substr(1);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) throw bad("missing ':' before the port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      throw bad("an IPv6 address must be written in brackets, e.g. [::1]:9000");
    }
  }
  if (host.empty()) throw bad("empty host");
  if (port.empty()) throw bad("empty port");
  // Decimal digits only; at most 5 so the value cannot overflow before the range check.
  if (port.size() > 5) throw bad("port '" + std::string(port) + "' exceeds 65535");
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') throw bad("port '" + std::string(port) + "' is not a decimal number");
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) throw bad("port " + std::to_string(value) + " exceeds 65535");
  return Endpoint{std::string(host), static_cast<uint16_t>(value)};
}

bool is_loopback_host(std::string_view host) {
  const std::string h(host);
  if (h == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // An IPv4-mapped loopback address (::ffff:127.x.y.z) reaches the same interface.
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

void require_loopback_for_plaintext(const Endpoint& endpoint) {
  if (is_loopback_host(endpoint.host)) return;
  throw InvalidArgument(
      "plaintext TCP (no TLS) is only allowed on a loopback address "
      "(127.0.0.0/8, ::1, localhost), not " +
          to_string(endpoint) +
          "; use TLS with a certificate the client checks (a pinned "
          "fingerprint or a CA)",
      ErrorReason::plaintext_refused);
}

std::string to_string(const Endpoint& endpoint) {
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

}  // namespace pinfer::transport
