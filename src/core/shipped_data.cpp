#include "pinfer/core/shipped_data.hpp"

#include <cstdlib>
#include <string>
#include <system_error>

#include "pinfer/core/error.hpp"

namespace fs = std::filesystem;

namespace pinfer {

std::optional<fs::path> find_shipped_data(const fs::path& start, int parents) {
  if (const char* env = std::getenv("PINFER_DATA_DIR"); env != nullptr && *env != '\0') {
    std::error_code ec;
    if (!fs::is_directory(env, ec)) {
      throw IoError(std::string("PINFER_DATA_DIR=") + env + " is not a folder");
    }
    return fs::path(env);
  }
  fs::path dir = start;
  for (int level = 0; level <= parents && !dir.empty(); ++level) {
    const fs::path share = dir / "share" / "pinfer";
    std::error_code ec;
    if (fs::is_directory(share, ec)) return share.lexically_normal();
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return std::nullopt;
}

}  // namespace pinfer
