#include "pinfer/sim/units.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::sim {
namespace {

constexpr std::size_t kMaxRates = 100000;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

[[noreturn]] void bad(std::string_view field, std::string_view text, std::string_view expected) {
  throw InvalidArgument(std::string(field) + ": invalid value \"" + std::string(text) +
                        "\", expected " + std::string(expected));
}

// Parses a leading decimal number; returns the rest in `rest`.
bool leading_number(const std::string& s, double& value, std::string& rest) {
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || !std::isfinite(value)) return false;
  rest = trim(std::string_view(ptr, static_cast<std::size_t>(end - ptr)));
  return true;
}

}  // namespace

double parse_number(std::string_view text, std::string_view field) {
  const std::string s = trim(text);
  double v = 0;
  std::string rest;
  if (s.empty() || !leading_number(s, v, rest) || !rest.empty()) bad(field, text, "a number");
  return v;
}

std::vector<double> linspace(double a, double b, uint32_t n) {
  std::vector<double> out;
  if (n == 0) return out;
  out.reserve(n);
  if (n == 1) {
    out.push_back(a);
    return out;
  }
  const double step = (b - a) / static_cast<double>(n - 1);
  for (uint32_t i = 0; i < n; ++i) out.push_back(a + step * static_cast<double>(i));
  out.back() = b;
  return out;
}

std::vector<double> parse_rates(std::string_view text, std::string_view field) {
  const std::string s = trim(text);
  std::vector<double> rates;
  if (std::count(s.begin(), s.end(), ':') == 2) {
    const auto c1 = s.find(':');
    const auto c2 = s.find(':', c1 + 1);
    const double a = parse_number(s.substr(0, c1), field);
    const double b = parse_number(s.substr(c1 + 1, c2 - c1 - 1), field);
    const double n = parse_number(s.substr(c2 + 1), field);
    if (n < 1 || n > kMaxRates || std::floor(n) != n) {
      bad(field, text, "a:b:n with an integer count n in [1, 100000]");
    }
    if (!(a > 0) || !(b >= a)) bad(field, text, "a:b:n with 0 < a <= b");
    rates = linspace(a, b, static_cast<uint32_t>(n));
  } else {
    std::size_t pos = 0;
    while (pos <= s.size()) {
      const auto comma = s.find(',', pos);
      const std::string item =
          s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      const double r = parse_number(item, field);
      if (!(r > 0)) bad(field, text, "arrival rates > 0");
      rates.push_back(r);
      if (rates.size() > kMaxRates) bad(field, text, "at most 100000 rates");
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  return rates;
}

}  // namespace pinfer::sim
