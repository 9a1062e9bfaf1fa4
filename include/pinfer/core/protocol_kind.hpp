#pragma once
// The two private-inference protocols pinfer implements, named once for every layer (the
// protocols themselves, the simulator's cost profiles and scenarios, the command line).
//   server_garbler: Delphi-style baseline; the server garbles, the client stores the garbled
//                   circuits and evaluates them online.
//   client_garbler: the client garbles (folding its own inputs in) and uploads; the server stores
//                   and evaluates the garbled circuits; the client keeps O(1) state.
#include <array>
#include <string_view>

namespace pinfer {

// Stable numbers: they are written in precompute state files.
enum class ProtocolKind : unsigned char { server_garbler = 1, client_garbler = 2 };

inline constexpr std::array<ProtocolKind, 2> kProtocolKinds = {ProtocolKind::server_garbler,
                                                               ProtocolKind::client_garbler};

// The canonical name: "server-garbler" or "client-garbler".
[[nodiscard]] std::string_view to_string(ProtocolKind kind) noexcept;
// Parses a canonical name; '_' is accepted for '-' ("server_garbler", as JSON keys of the
// published measurements spell it). Throws InvalidArgument naming the value and the accepted
// names otherwise.
[[nodiscard]] ProtocolKind parse_protocol_kind(std::string_view name);

}  // namespace pinfer
