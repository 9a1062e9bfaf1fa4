#include "pinfer/core/byte_size.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

struct Unit {
  std::string_view name;  // lower case
  double bytes;
};

constexpr std::array<Unit, 11> kUnits = {{{"", 1},
                                          {"b", 1},
                                          {"kb", 1e3},
                                          {"mb", 1e6},
                                          {"gb", 1e9},
                                          {"tb", 1e12},
                                          {"pb", 1e15},
                                          {"kib", 1024.0},
                                          {"mib", 1024.0 * 1024},
                                          {"gib", 1024.0 * 1024 * 1024},
                                          {"tib", 1024.0 * 1024 * 1024 * 1024}}};

// Above this a size no longer fits a uint64_t with room to spare (2^64 is about 1.8e19).
constexpr double kMaxBytes = 9.0e18;

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

std::string_view strip(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

[[noreturn]] void reject(std::string_view field, std::string_view text, std::string_view expected) {
  throw InvalidArgument(std::string(field) + ": invalid value \"" + std::string(text) +
                        "\", expected " + std::string(expected));
}

}  // namespace

uint64_t parse_byte_size(std::string_view text, std::string_view field) {
  const std::string_view s = strip(text);
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || !std::isfinite(value)) {
    reject(field, text, "a size such as 16GB, 500MB or 1.5TB");
  }
  std::string unit(strip(s.substr(static_cast<std::size_t>(end - s.data()))));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double scale = 0;
  for (const Unit& u : kUnits) scale = unit == u.name ? u.bytes : scale;
  if (scale == 0) reject(field, text, "a unit B, KB, MB, GB, TB, PB, KiB, MiB, GiB or TiB");
  const double bytes = std::round(value * scale);
  if (!(bytes >= 0) || bytes > kMaxBytes) reject(field, text, "a size between 0 and 9 EB");
  return static_cast<uint64_t>(bytes);
}

std::string format_byte_size(double bytes) {
  static constexpr std::array<const char*, 6> kNames = {"B", "KB", "MB", "GB", "TB", "PB"};
  std::size_t u = 0;
  while (bytes >= 1000.0 && u + 1 < kNames.size()) {
    bytes /= 1000.0;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4g %s", bytes, kNames[u]);
  return buf;
}

}  // namespace pinfer
