#pragma once
// Output of `pinfer bench <part>`: named figures printed as an aligned table, or as one JSON
// object with --json. Rates are computed here from counted work and measured time, so no
// command hand-types a numerator (STYLE.md, "Benchmarks").
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pinfer::cli {

class BenchTable {
 public:
  explicit BenchTable(std::string title) : title_(std::move(title)) {}

  // key = count / seconds. Requires: seconds > 0.
  void add_rate(std::string_view key, double count, double seconds, std::string_view unit);
  void add_value(std::string_view key, double value, std::string_view unit);
  void add_text(std::string_view key, std::string_view value);
  // Adds a raw JSON value (e.g. per-layer arrays); shown in the table as a summary line.
  void add_json(std::string_view key, nlohmann::json value);

  // Prints the table, or the JSON object when json is true.
  void print(bool json) const;
  [[nodiscard]] const nlohmann::json& json() const noexcept { return json_; }

 private:
  std::string title_;
  std::vector<std::pair<std::string, std::string>> rows_;
  nlohmann::json json_ = nlohmann::json::object();
};

// Median of the samples (by value). Requires: non-empty.
[[nodiscard]] double median(std::vector<double> samples);

}  // namespace pinfer::cli
