#pragma once
// Routing in a fleet (docs/DEPLOYMENT.md): a node that is not an authenticated client's home
// answers the client's hello with a redirect frame naming the home's HOST:PORT instead of the
// handshake, and ends the connection. InferenceClient turns the frame into a RedirectError; the
// caller connects to the address and starts again, once (a second redirect is an error: nodes
// that disagree about a client's home must not bounce it forever). The client's transport
// rules still apply to the new address (plaintext only to loopback, the same TLS checks).
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/core/error.hpp"

namespace pinfer::protocol {

inline constexpr std::size_t kMaxRedirectAddressChars = 255;

// The server redirected this client to its home node (ErrorReason::protocol).
class RedirectError : public ProtocolError {
 public:
  explicit RedirectError(std::string address)
      : ProtocolError("the server redirects this client to its home node at " + address),
        address_(std::move(address)) {}
  // HOST:PORT of the home node, checked printable and at most kMaxRedirectAddressChars.
  [[nodiscard]] const std::string& address() const noexcept { return address_; }

 private:
  std::string address_;
};

// The redirect frame's payload: the address bytes. encode throws InvalidArgument, decode
// FormatError, for an empty address, one above the cap, or one with a character outside
// printable ASCII or a space.
[[nodiscard]] std::vector<std::byte> encode_redirect(std::string_view address);
[[nodiscard]] std::string decode_redirect(std::span<const std::byte> payload);

}  // namespace pinfer::protocol
