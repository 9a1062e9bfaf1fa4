#pragma once
// A network endpoint "host:port" parsed from untrusted text (command line, config file).
#include <cstdint>
#include <string>
#include <string_view>

namespace pinfer::transport {

struct Endpoint {
  std::string host;   // a name or a numeric address, without brackets
  uint16_t port = 0;  // 0 only makes sense for a listener (ephemeral port)
  bool operator==(const Endpoint&) const = default;
};

// Parses "host:port" or "[ipv6]:port". The port is decimal, 0..65535.
// Throws InvalidArgument naming the text and what is wrong (missing colon, empty host,
// non-numeric port, port above 65535).
[[nodiscard]] Endpoint parse_endpoint(std::string_view text);

// True if `host` is a loopback address written literally (127.0.0.0/8, ::1, ::ffff:127.x.y.z)
// or the name "localhost". No name is resolved: the check must not depend on DNS.
[[nodiscard]] bool is_loopback_host(std::string_view host);

// Plaintext (no TLS) is only for experiments on one machine: throws InvalidArgument with
// ErrorReason::plaintext_refused, naming the endpoint, unless the host is loopback
// (is_loopback_host).
void require_loopback_for_plaintext(const Endpoint& endpoint);

// "host:port", with brackets around an IPv6 address.
[[nodiscard]] std::string to_string(const Endpoint& endpoint);

}  // namespace pinfer::transport
