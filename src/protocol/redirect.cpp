#include "pinfer/protocol/redirect.hpp"

#include <algorithm>

namespace pinfer::protocol {

namespace {
bool valid_address(std::string_view a) noexcept {
  return !a.empty() && a.size() <= kMaxRedirectAddressChars &&
         std::all_of(a.begin(), a.end(), [](char c) { return c > ' ' && c < 0x7f; });
}
}  // namespace

std::vector<std::byte> encode_redirect(std::string_view address) {
  if (!valid_address(address)) {
    throw InvalidArgument("redirect address must be 1.." +
                          std::to_string(kMaxRedirectAddressChars) +
                          " printable characters without spaces (got " +
                          std::to_string(address.size()) + " characters)");
  }
  const auto bytes = std::as_bytes(std::span<const char>(address.data(), address.size()));
  return {bytes.begin(), bytes.end()};
}

std::string decode_redirect(std::span<const std::byte> payload) {
  const std::string address(reinterpret_cast<const char*>(payload.data()), payload.size());
  if (!valid_address(address)) {
    throw FormatError("redirect frame of " + std::to_string(payload.size()) +
                      " bytes is not an address (1.." + std::to_string(kMaxRedirectAddressChars) +
                      " printable characters)");
  }
  return address;
}

}  // namespace pinfer::protocol
