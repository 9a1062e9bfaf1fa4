#pragma once
// Lower-case hex encoding of bytes (digests, fingerprints, tokens, random names) and its
// inverse. Not constant time: use it on public values, or on a secret only where its text is
// written out anyway (a credentials file).
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace pinfer {

// Two lower-case digits per byte, most significant nibble first.
[[nodiscard]] std::string to_hex(std::span<const std::byte> bytes);
[[nodiscard]] std::string to_hex(std::span<const unsigned char> bytes);

// The value of one hex digit (either case), or -1 if `c` is not one.
[[nodiscard]] int hex_digit_value(char c) noexcept;

// Decodes exactly out.size() bytes (2 * out.size() digits, either case); false, with `out`
// unspecified, if `text` is not that.
[[nodiscard]] bool from_hex(std::string_view text, std::span<std::byte> out) noexcept;

}  // namespace pinfer
