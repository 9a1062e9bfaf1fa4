// The redirect frame's payload (redirect.hpp): a node names a client's home node.
#include "pinfer/protocol/redirect.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pinfer::protocol {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(Redirect, AddressRoundTrips) {
  const std::vector<std::byte> payload = encode_redirect("node-7.example:7878");
  EXPECT_EQ(decode_redirect(payload), "node-7.example:7878");
  const RedirectError e("127.0.0.1:1234");
  EXPECT_EQ(e.address(), "127.0.0.1:1234");
  EXPECT_EQ(e.reason(), ErrorReason::protocol);
}

TEST(Redirect, MalformedAddressesAreRefused) {
  EXPECT_THROW((void)encode_redirect(""), InvalidArgument);
  EXPECT_THROW((void)encode_redirect("a b:1"), InvalidArgument);
  EXPECT_THROW((void)encode_redirect(std::string(kMaxRedirectAddressChars + 1, 'a')),
               InvalidArgument);
  EXPECT_THROW((void)decode_redirect({}), FormatError);
  EXPECT_THROW((void)decode_redirect(bytes_of(std::string("host\n:1"))), FormatError);
  EXPECT_THROW((void)decode_redirect(bytes_of(std::string("ho\0st:1", 7))), FormatError);
  EXPECT_THROW((void)decode_redirect(bytes_of(std::string(kMaxRedirectAddressChars + 1, 'a'))),
               FormatError);
  EXPECT_EQ(decode_redirect(bytes_of(std::string(kMaxRedirectAddressChars, 'a'))).size(),
            kMaxRedirectAddressChars);
}

}  // namespace
}  // namespace pinfer::protocol
