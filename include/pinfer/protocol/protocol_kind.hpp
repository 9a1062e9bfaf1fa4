#pragma once
// The two private-inference protocols pinfer implements.
//   server_garbler: Delphi-style baseline; the server garbles, the client stores the garbled
//                   circuits and evaluates them online.
//   client_garbler: the client garbles (folding its own inputs in) and uploads; the server stores
//                   and evaluates the garbled circuits; the client keeps O(1) state.
#include <string_view>

namespace pinfer::protocol {

enum class ProtocolKind : unsigned char { server_garbler = 1, client_garbler = 2 };

[[nodiscard]] std::string_view to_string(ProtocolKind kind) noexcept;
// Parses "server-garbler" or "client-garbler"; throws InvalidArgument otherwise.
[[nodiscard]] ProtocolKind parse_protocol_kind(std::string_view name);

}  // namespace pinfer::protocol
