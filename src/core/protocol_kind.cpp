#include "pinfer/core/protocol_kind.hpp"

#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer {

std::string_view to_string(ProtocolKind kind) noexcept {
  return kind == ProtocolKind::server_garbler ? "server-garbler" : "client-garbler";
}

ProtocolKind parse_protocol_kind(std::string_view name) {
  std::string canonical(name);
  for (char& c : canonical) c = c == '_' ? '-' : c;
  for (const ProtocolKind kind : kProtocolKinds) {
    if (canonical == to_string(kind)) return kind;
  }
  throw InvalidArgument("protocol \"" + std::string(name) +
                        "\" is not one of server-garbler, client-garbler");
}

}  // namespace pinfer
