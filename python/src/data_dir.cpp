// Where the Python module finds the shipped data (profiles for "paper:" names), as the `pinfer`
// command does (src/cli/data_dir.hpp): $PINFER_DATA_DIR, else the first share/pinfer above the
// module's own file. Installed, that is <prefix>/share/pinfer above
// <prefix>/lib/pythonX.Y/dist-packages/pinfer; in the build tree, <build>/share/pinfer, which
// python/CMakeLists.txt links to the source folders. No source path is compiled in.
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "bindings.hpp"
#include "pinfer/core/error.hpp"

namespace fs = std::filesystem;

namespace pinfer::python {
namespace {

// The folder holding this extension module (the .so), from the dynamic linker.
fs::path module_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&module_dir), &info) == 0 || info.dli_fname == nullptr) {
    return {};
  }
  std::error_code ec;
  const fs::path file = fs::canonical(info.dli_fname, ec);
  return ec ? fs::path() : file.parent_path();
}

}  // namespace

std::string data_dir() {
  if (const char* env = std::getenv("PINFER_DATA_DIR"); env != nullptr && *env != '\0') {
    std::error_code ec;
    if (!fs::is_directory(env, ec)) {
      throw IoError(std::string("PINFER_DATA_DIR=") + env + " is not a folder");
    }
    return env;
  }
  // pinfer/ -> dist-packages/ -> pythonX.Y/ -> lib/ -> <prefix>: a few levels are enough.
  fs::path dir = module_dir();
  for (int level = 0; level < 5 && !dir.empty(); ++level) {
    std::error_code ec;
    if (fs::is_directory(dir / "share" / "pinfer", ec)) return (dir / "share" / "pinfer").string();
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return ".";  // only the current folder's profiles/ and those named explicitly
}

}  // namespace pinfer::python
