#pragma once
// Overflow-checked size arithmetic for lengths that come from untrusted input: every length is
// checked before anything is allocated (STYLE.md, "Untrusted input").
#include <cstdint>
#include <string_view>

#include "pinfer/core/error.hpp"

namespace pinfer {

// Returns a * b; throws FormatError naming `what` on overflow.
[[nodiscard]] inline uint64_t checked_mul(uint64_t a, uint64_t b, std::string_view what = "size") {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) {
    throw FormatError(std::string(what) + " overflows 64 bits");
  }
  return r;
}

// Returns a + b; throws FormatError naming `what` on overflow.
[[nodiscard]] inline uint64_t checked_add(uint64_t a, uint64_t b, std::string_view what = "size") {
  uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    throw FormatError(std::string(what) + " overflows 64 bits");
  }
  return r;
}

}  // namespace pinfer
