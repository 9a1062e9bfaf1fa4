// Where the Python module finds the shipped data (profiles for "paper:" names), as the `pinfer`
// command does (src/cli/data_dir.hpp): $PINFER_DATA_DIR, else the first share/pinfer above the
// module's own file. Installed, that is <prefix>/share/pinfer above
// <prefix>/lib/pythonX.Y/dist-packages/pinfer; in the build tree, <build>/share/pinfer, which
// python/CMakeLists.txt links to the source folders. No source path is compiled in.
#include <dlfcn.h>

#include <filesystem>
#include <system_error>

#include "bindings.hpp"
#include "pinfer/core/shipped_data.hpp"

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
  // pinfer/ -> dist-packages/ -> pythonX.Y/ -> lib/ -> <prefix>: four folders up at most.
  const std::optional<fs::path> dir = find_shipped_data(module_dir(), 4);
  return dir ? dir->string() : ".";  // else only the current folder's profiles/ and named ones
}

}  // namespace pinfer::python
