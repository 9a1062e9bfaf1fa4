#pragma once
#include <string_view>

namespace pinfer {

[[nodiscard]] std::string_view version_string() noexcept;
[[nodiscard]] std::string_view build_type() noexcept;

}  // namespace pinfer
