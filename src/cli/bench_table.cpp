#include "bench_table.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "pinfer/core/error.hpp"

namespace pinfer::cli {

void BenchTable::add_rate(std::string_view key, double count, double seconds,
                          std::string_view unit) {
  PINFER_ASSERT(seconds > 0);
  add_value(key, count / seconds, unit);
}

void BenchTable::add_value(std::string_view key, double value, std::string_view unit) {
  json_[std::string(key)] = value;
  rows_.emplace_back(std::string(key), fmt::format("{:.4g} {}", value, unit));
}

void BenchTable::add_text(std::string_view key, std::string_view value) {
  json_[std::string(key)] = std::string(value);
  rows_.emplace_back(std::string(key), std::string(value));
}

void BenchTable::add_json(std::string_view key, nlohmann::json value) {
  const std::size_t n = value.is_array() ? value.size() : 1;
  json_[std::string(key)] = std::move(value);
  rows_.emplace_back(std::string(key), fmt::format("({} entries, see --json)", n));
}

void BenchTable::print(bool json) const {
  if (json) {
    fmt::print("{}\n", json_.dump(2));
    return;
  }
  std::size_t width = 0;
  for (const auto& [k, v] : rows_) width = std::max(width, k.size());
  fmt::print("{}\n", title_);
  for (const auto& [k, v] : rows_) fmt::print("  {:<{}}  {}\n", k, width, v);
}

double median(std::vector<double> samples) {
  PINFER_ASSERT(!samples.empty());
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  return n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

}  // namespace pinfer::cli
