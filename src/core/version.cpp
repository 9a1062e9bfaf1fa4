#include "pinfer/core/version.hpp"

#ifndef PINFER_VERSION
#define PINFER_VERSION "0.1.0"
#endif
#ifndef PINFER_BUILD_TYPE
#define PINFER_BUILD_TYPE "unknown"
#endif

namespace pinfer {

std::string_view version_string() noexcept {
  return PINFER_VERSION;
}
std::string_view build_type() noexcept {
  return PINFER_BUILD_TYPE;
}

}  // namespace pinfer
