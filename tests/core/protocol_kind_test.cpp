#include "pinfer/core/protocol_kind.hpp"

#include <gtest/gtest.h>

#include "../expect_message.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

TEST(ProtocolKind, NamesRoundTrip) {
  for (const ProtocolKind kind : kProtocolKinds) {
    EXPECT_EQ(parse_protocol_kind(to_string(kind)), kind);
  }
  EXPECT_EQ(to_string(ProtocolKind::server_garbler), "server-garbler");
  EXPECT_EQ(to_string(ProtocolKind::client_garbler), "client-garbler");
}

TEST(ProtocolKind, AcceptsUnderscoresForDashes) {
  EXPECT_EQ(parse_protocol_kind("server_garbler"), ProtocolKind::server_garbler);
  EXPECT_EQ(parse_protocol_kind("client_garbler"), ProtocolKind::client_garbler);
}

TEST(ProtocolKind, UnknownNameIsInvalidArgumentNamingValueAndChoices) {
  for (const char* bad : {"", "garbler", "Server-Garbler", "server-garbler ", "cg"}) {
    const std::string msg =
        test_support::message_of<InvalidArgument>([&] { (void)parse_protocol_kind(bad); });
    std::string quoted = "\"";  // (built in steps: g++ 12 misreads "\"" + s + "\"" at -O3)
    quoted.append(bad).append("\"");
    EXPECT_NE(msg.find(quoted), std::string::npos) << msg;
    EXPECT_NE(msg.find("server-garbler, client-garbler"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace pinfer
