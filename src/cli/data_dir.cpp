#include "data_dir.hpp"

#include <cstdlib>
#include <string>
#include <system_error>

#include "pinfer/core/error.hpp"

namespace fs = std::filesystem;

namespace pinfer::cli {
namespace {

// Where /proc/self/exe points: the binary itself, wherever it was installed or copied to.
std::optional<fs::path> executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  return exe.parent_path();
}

std::string searched() {
  std::string where = "$PINFER_DATA_DIR (unset)";
  if (const auto dir = executable_dir())
    where += ", " + (*dir / ".." / "share" / "pinfer").string();
  return where;
}

}  // namespace

std::optional<fs::path> find_data_dir() {
  if (const char* env = std::getenv("PINFER_DATA_DIR"); env != nullptr && *env != '\0') {
    std::error_code ec;
    if (!fs::is_directory(env, ec)) {
      throw IoError(std::string("PINFER_DATA_DIR=") + env + " is not a folder");
    }
    return fs::path(env);
  }
  if (const auto dir = executable_dir()) {
    const fs::path share = *dir / ".." / "share" / "pinfer";
    std::error_code ec;
    if (fs::is_directory(share, ec)) return share.lexically_normal();
  }
  return std::nullopt;
}

fs::path data_file(std::string_view relative) {
  const std::optional<fs::path> dir = find_data_dir();
  if (!dir) {
    throw IoError("no pinfer data folder for " + std::string(relative) + " (searched " +
                  searched() +
                  "); set PINFER_DATA_DIR to the folder holding models/ and profiles/");
  }
  fs::path file = *dir / relative;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    throw IoError("the pinfer data folder " + dir->string() + " lacks " + std::string(relative));
  }
  return file;
}

}  // namespace pinfer::cli
