#include "json_fields.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "pinfer/core/capped_read.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::sim::detail {
namespace {

std::string describe(const Json& j) {
  std::string s = j.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string fmt_num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

void fail(std::string_view path, std::string_view what) {
  throw FormatError(std::string(path.empty() ? "<root>" : path) + ": " + std::string(what));
}

std::string join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

std::string index(std::string_view path, std::size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

Json read_json_file(const std::string& file, std::string_view what) {
  SecretBuffer<std::byte> bytes;
  try {
    bytes = read_file_capped(file, kMaxJsonFileBytes);
  } catch (const FormatError& e) {
    throw FormatError(std::string(what) + ": " + e.what());
  } catch (const IoError& e) {
    throw IoError(std::string(what) + ": " + e.what());
  }
  const auto* text = reinterpret_cast<const char*>(bytes.data());
  try {
    return Json::parse(text, text + bytes.size());
  } catch (const Json::parse_error& e) {
    throw FormatError(std::string(what) + " " + file + " is not valid JSON: " + e.what());
  }
}

void require_object(const Json& j, std::string_view path) {
  if (!j.is_object()) fail(path, "expected an object, got " + describe(j));
}

void reject_unknown_keys(const Json& j, std::string_view path,
                         std::initializer_list<std::string_view> allowed) {
  reject_unknown_keys(j, path, std::vector<std::string_view>(allowed));
}

void reject_unknown_keys(const Json& j, std::string_view path,
                         const std::vector<std::string_view>& allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || it.key() == a;
    if (!ok) fail(join(path, it.key()), "unknown field");
  }
}

const Json& field(const Json& obj, std::string_view key, std::string_view path) {
  require_object(obj, path);
  auto it = obj.find(std::string(key));
  if (it == obj.end()) fail(join(path, key), "missing required field");
  return *it;
}

const Json* optional_field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

double number(const Json& j, std::string_view path, double min, double max) {
  if (!j.is_number()) fail(path, "expected a number, got " + describe(j));
  const double v = j.get<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    fail(path, "value " + fmt_num(v) + " outside [" + fmt_num(min) + ", " + fmt_num(max) + "]");
  }
  return v;
}

uint64_t unsigned_integer(const Json& j, std::string_view path, uint64_t min, uint64_t max) {
  if (!j.is_number_integer() ||
      (j.is_number_integer() && !j.is_number_unsigned() && j.get<int64_t>() < 0)) {
    // Accept integral floats such as 4719545.0 (the published JSON writes byte counts so).
    if (j.is_number_float()) {
      const double v = j.get<double>();
      if (std::isfinite(v) && v >= 0 && v <= 1.8e19 && std::floor(v) == v) {
        const auto u = static_cast<uint64_t>(v);
        if (u < min || u > max) {
          fail(path, "value " + std::to_string(u) + " outside [" + std::to_string(min) + ", " +
                         std::to_string(max) + "]");
        }
        return u;
      }
    }
    fail(path, "expected a non-negative integer, got " + describe(j));
  }
  const auto v = j.get<uint64_t>();
  if (v < min || v > max) {
    fail(path, "value " + std::to_string(v) + " outside [" + std::to_string(min) + ", " +
                   std::to_string(max) + "]");
  }
  return v;
}

std::string string(const Json& j, std::string_view path, std::size_t max_len) {
  if (!j.is_string()) fail(path, "expected a string, got " + describe(j));
  const auto& s = j.get_ref<const std::string&>();
  if (s.size() > max_len) {
    fail(path, "string of " + std::to_string(s.size()) + " characters exceeds limit " +
                   std::to_string(max_len));
  }
  return s;
}

bool boolean(const Json& j, std::string_view path) {
  if (!j.is_boolean()) fail(path, "expected true or false, got " + describe(j));
  return j.get<bool>();
}

const Json& array(const Json& j, std::string_view path, std::size_t max_len) {
  if (!j.is_array()) fail(path, "expected an array, got " + describe(j));
  if (j.size() > max_len) {
    fail(path, "array of " + std::to_string(j.size()) + " entries exceeds limit " +
                   std::to_string(max_len));
  }
  return j;
}

std::vector<double> number_array(const Json& j, std::string_view path, double min, double max,
                                 std::size_t max_len) {
  const Json& a = array(j, path, max_len);
  std::vector<double> out;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out.push_back(number(a[i], index(path, i), min, max));
  return out;
}

}  // namespace pinfer::sim::detail
