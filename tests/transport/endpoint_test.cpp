#include "pinfer/transport/endpoint.hpp"

#include <gtest/gtest.h>

#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::transport {
namespace {

std::string error_of(std::string_view text) {
  try {
    (void)parse_endpoint(text);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InvalidArgument for '" << text << "'";
  return {};
}

TEST(Endpoint, ParsesHostAndPort) {
  EXPECT_EQ(parse_endpoint("127.0.0.1:9000"), (Endpoint{"127.0.0.1", 9000}));
  EXPECT_EQ(parse_endpoint("localhost:0"), (Endpoint{"localhost", 0}));
  EXPECT_EQ(parse_endpoint("example.org:65535"), (Endpoint{"example.org", 65535}));
  EXPECT_EQ(parse_endpoint("[::1]:443"), (Endpoint{"::1", 443}));
}

TEST(Endpoint, ToStringRoundTrips) {
  for (const char* text : {"127.0.0.1:9000", "[::1]:443", "host:1"}) {
    EXPECT_EQ(to_string(parse_endpoint(text)), text);
  }
}

TEST(Endpoint, MissingColonIsInvalidArgument) {
  EXPECT_NE(error_of("127.0.0.1").find("missing ':'"), std::string::npos);
  EXPECT_NE(error_of("[::1]443").find("missing ':'"), std::string::npos);
}

TEST(Endpoint, BadPortIsInvalidArgument) {
  EXPECT_NE(error_of("host:").find("empty port"), std::string::npos);
  EXPECT_NE(error_of("host:80a").find("not a decimal number"), std::string::npos);
  EXPECT_NE(error_of("host:-1").find("not a decimal number"), std::string::npos);
  EXPECT_NE(error_of("host: 80").find("not a decimal number"), std::string::npos);
}

TEST(Endpoint, PortAbove65535IsInvalidArgument) {
  const std::string msg = error_of("host:65536");
  EXPECT_NE(msg.find("65536 exceeds 65535"), std::string::npos) << msg;
  EXPECT_NE(error_of("host:99999999999999999999").find("exceeds 65535"), std::string::npos);
}

TEST(Endpoint, EmptyHostAndUnbracketedIpv6AreInvalidArgument) {
  EXPECT_NE(error_of(":80").find("empty host"), std::string::npos);
  EXPECT_NE(error_of("::1:80").find("brackets"), std::string::npos);
  EXPECT_NE(error_of("[::1:80").find("']'"), std::string::npos);
  EXPECT_NE(error_of("").find("missing ':'"), std::string::npos);
}

TEST(Endpoint, LoopbackHostsAreRecognisedWithoutResolving) {
  for (const char* h : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1", "localhost"}) {
    EXPECT_TRUE(is_loopback_host(h)) << h;
  }
  for (const char* h : {"10.0.0.1", "128.0.0.1", "0.0.0.0", "::", "::2", "::ffff:10.0.0.1",
                        "example.org", "localhost.example.org", "127.0.0.1.example.org"}) {
    EXPECT_FALSE(is_loopback_host(h)) << h;
  }
}

TEST(Endpoint, PlaintextToNonLoopbackEndpointIsRefusedWithItsReason) {
  EXPECT_NO_THROW(require_loopback_for_plaintext(parse_endpoint("127.0.0.1:7878")));
  EXPECT_NO_THROW(require_loopback_for_plaintext(parse_endpoint("[::1]:7878")));
  EXPECT_NO_THROW(require_loopback_for_plaintext(parse_endpoint("localhost:7878")));
  for (const char* text :
       {"10.0.0.1:7878", "[2001:db8::1]:7878", "server.example:7878", "0.0.0.0:7878"}) {
    try {
      require_loopback_for_plaintext(parse_endpoint(text));
      ADD_FAILURE() << "no InvalidArgument for " << text;
    } catch (const InvalidArgument& e) {
      const std::string msg = e.what();
      EXPECT_EQ(e.reason(), ErrorReason::plaintext_refused);
      EXPECT_NE(msg.find("loopback"), std::string::npos) << msg;
      EXPECT_NE(msg.find(text), std::string::npos) << msg;
      // Library texts name no CLI flag; the CLI adds its own hint from the reason.
      EXPECT_EQ(msg.find("--"), std::string::npos) << msg;
    }
  }
}

}  // namespace
}  // namespace pinfer::transport
