#include "data_dir.hpp"

#include <string>
#include <system_error>

#include "pinfer/core/error.hpp"
#include "pinfer/core/shipped_data.hpp"

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
  const std::optional<fs::path> dir = executable_dir();
  // Installed: <prefix>/bin/pinfer beside <prefix>/share/pinfer, so only the one folder above.
  return find_shipped_data(dir ? *dir / ".." : fs::path(), 0);
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
