#pragma once
// The protocol kinds are core's (pinfer/core/protocol_kind.hpp: one name and one parser for
// every layer); these names keep protocol::ProtocolKind and protocol::parse_protocol_kind working.
#include "pinfer/core/protocol_kind.hpp"

namespace pinfer::protocol {

using ProtocolKind = pinfer::ProtocolKind;
using pinfer::parse_protocol_kind;
using pinfer::to_string;

}  // namespace pinfer::protocol
