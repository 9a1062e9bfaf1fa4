#pragma once
// Checked access to untrusted JSON (profiles, scenarios): every accessor names the full field
// path in its FormatError ("protocols.server-garbler.offline[3].bytes: ..."), checks the type
// and the range, and caps array lengths before anything is allocated from them.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pinfer::sim::detail {

using Json = nlohmann::json;

// Largest JSON file we read (profiles are ~100 kB, scenarios a few kB).
inline constexpr std::uintmax_t kMaxJsonFileBytes = 64u << 20;
// Largest array we accept (steps per phase, per-layer lists, rate lists).
inline constexpr std::size_t kMaxJsonArray = 100000;

[[noreturn]] void fail(std::string_view path, std::string_view what);

[[nodiscard]] std::string join(std::string_view path, std::string_view key);
[[nodiscard]] std::string index(std::string_view path, std::size_t i);

// Reads and parses a JSON file; IoError if unreadable, FormatError if too large or malformed.
[[nodiscard]] Json read_json_file(const std::string& file, std::string_view what);

void require_object(const Json& j, std::string_view path);
// Fails naming any key of `j` not in `allowed`, so a typo ("client_storag") is an error.
void reject_unknown_keys(const Json& j, std::string_view path,
                         std::initializer_list<std::string_view> allowed);
void reject_unknown_keys(const Json& j, std::string_view path,
                         const std::vector<std::string_view>& allowed);

[[nodiscard]] const Json& field(const Json& obj, std::string_view key, std::string_view path);
[[nodiscard]] const Json* optional_field(const Json& obj, std::string_view key);

[[nodiscard]] double number(const Json& j, std::string_view path, double min, double max);
[[nodiscard]] uint64_t unsigned_integer(const Json& j, std::string_view path, uint64_t min,
                                        uint64_t max);
[[nodiscard]] std::string string(const Json& j, std::string_view path, std::size_t max_len = 4096);
[[nodiscard]] bool boolean(const Json& j, std::string_view path);
[[nodiscard]] const Json& array(const Json& j, std::string_view path, std::size_t max_len);
[[nodiscard]] std::vector<double> number_array(const Json& j, std::string_view path, double min,
                                               double max, std::size_t max_len = kMaxJsonArray);

}  // namespace pinfer::sim::detail
