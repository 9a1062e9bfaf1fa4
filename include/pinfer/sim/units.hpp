#pragma once
// Parsing of human-written quantities from the command line and scenario files. Every error is
// an InvalidArgument that names the field, the value and what was expected. Byte sizes ("16GB")
// are core's (pinfer/core/byte_size.hpp): they size real stores too.
#include <cstdint>
#include <string_view>
#include <vector>

namespace pinfer::sim {

// "a:b:n" -> n evenly spaced values from a to b inclusive (numpy.linspace, as the published
// simulator sweeps rates), or a comma-separated list "0.001,0.002". Values must be > 0.
[[nodiscard]] std::vector<double> parse_rates(std::string_view text, std::string_view field);
// n evenly spaced values from a to b inclusive; n >= 1 (n == 1 gives {a}).
[[nodiscard]] std::vector<double> linspace(double a, double b, uint32_t n);

// A finite number; InvalidArgument naming `field` otherwise.
[[nodiscard]] double parse_number(std::string_view text, std::string_view field);

}  // namespace pinfer::sim
