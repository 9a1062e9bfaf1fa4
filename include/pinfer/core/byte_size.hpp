#pragma once
// Byte sizes as people write them ("16GB", "1.5GB", "100MB", "1GiB"): the command line and the
// simulator's scenarios size real precompute stores, weight caches and simulated storage with
// them, so one parser and one printer serve every layer.
#include <cstdint>
#include <string>
#include <string_view>

namespace pinfer {

// "16GB" -> 16e9 bytes. Decimal units B, KB, MB, GB, TB, PB (10^3 steps, as the published
// simulator uses GB = 10^9 bytes) and binary KiB, MiB, GiB, TiB; a plain number is bytes.
// Fractions are allowed ("1.5GB") and rounded to the nearest byte; units are case-insensitive
// and may follow a space. Throws InvalidArgument naming `field`, the text and what was expected
// when the text is empty, not a number, negative, above 9e18 bytes or has an unknown unit.
[[nodiscard]] uint64_t parse_byte_size(std::string_view text, std::string_view field);

// Formats bytes with a decimal unit and 4 significant digits for tables ("16 GB", "10.17 GB").
[[nodiscard]] std::string format_byte_size(double bytes);

}  // namespace pinfer
