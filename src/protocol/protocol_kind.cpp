#include "pinfer/protocol/protocol_kind.hpp"

#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::protocol {

std::string_view to_string(ProtocolKind kind) noexcept {
  return kind == ProtocolKind::server_garbler ? "server-garbler" : "client-garbler";
}

ProtocolKind parse_protocol_kind(std::string_view name) {
  if (name == "server-garbler") return ProtocolKind::server_garbler;
  if (name == "client-garbler") return ProtocolKind::client_garbler;
  throw InvalidArgument("protocol '" + std::string(name) +
                        "' is not one of server-garbler, client-garbler");
}

}  // namespace pinfer::protocol
