// `pinfer version`: version, build type, CPU features and the kernel paths chosen.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "command_registry.hpp"
#include "pinfer/core/aes.hpp"
#include "pinfer/core/detail/cpu_features.hpp"
#include "pinfer/core/version.hpp"

namespace pinfer::cli {
namespace {

void setup(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("version", "Print version, build type and CPU features");
  cmd->callback([] {
    fmt::print("pinfer {}\n", version_string());
    fmt::print("build type: {}\n", build_type());
    fmt::print("cpu features: {}\n", fmt::join(cpu_feature_names(), " "));
    fmt::print("kernel path cap: {}\n", to_string(preferred_cpu_path()));
    fmt::print("aes path: {}\n", to_string(aes_active_path()));
  });
}

const CommandRegistration kRegistration("", "version", &setup);

}  // namespace
}  // namespace pinfer::cli
