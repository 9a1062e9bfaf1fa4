#pragma once
// A network endpoint "host:port" parsed from untrusted text (command line, config file).
#include <cstdint>
#include <string>
#include <string_view>

namespace pinfer::net {

struct Endpoint {
  std::string host;   // a name or a numeric address, without brackets
  uint16_t port = 0;  // 0 only makes sense for a listener (ephemeral port)
  bool operator==(const Endpoint&) const = default;
};

// Parses "host:port" or "[ipv6]:port". The port is decimal, 0..65535.
// Throws InvalidArgument naming the text and what is wrong (missing colon, empty host,
// non-numeric port, port above 65535).
[[nodiscard]] Endpoint parse_endpoint(std::string_view text);

// "host:port", with brackets around an IPv6 address.
[[nodiscard]] std::string to_string(const Endpoint& endpoint);

}  // namespace pinfer::net
