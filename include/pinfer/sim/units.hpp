#pragma once
// Parsing of human-written quantities from the command line and scenario files. Every error is
// an InvalidArgument that names the field, the value and what was expected.
#include <cstdint>
#include <string_view>
#include <vector>

namespace pinfer::sim {

// "16GB" -> 16e9 bytes. Decimal units B, KB, MB, GB, TB, PB (10^3 steps, as the published
// simulator uses GB = 10^9 bytes) and binary KiB, MiB, GiB, TiB; a plain number is bytes.
// Fractions are allowed ("1.5GB") and rounded to the nearest byte. Case-insensitive units.
[[nodiscard]] uint64_t parse_bytes(std::string_view text, std::string_view field);

// "a:b:n" -> n evenly spaced values from a to b inclusive (numpy.linspace, as the published
// simulator sweeps rates), or a comma-separated list "0.001,0.002". Values must be > 0.
[[nodiscard]] std::vector<double> parse_rates(std::string_view text, std::string_view field);
// n evenly spaced values from a to b inclusive; n >= 1 (n == 1 gives {a}).
[[nodiscard]] std::vector<double> linspace(double a, double b, uint32_t n);

// A finite number; InvalidArgument naming `field` otherwise.
[[nodiscard]] double parse_number(std::string_view text, std::string_view field);

// Formats bytes with a decimal unit for tables ("16 GB", "10.17 GB").
[[nodiscard]] std::string format_bytes(double bytes);

}  // namespace pinfer::sim
