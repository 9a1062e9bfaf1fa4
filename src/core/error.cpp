#include "pinfer/core/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace pinfer {

void assertion_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "pinfer: internal invariant broken: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace pinfer
