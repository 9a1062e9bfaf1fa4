// pinfer: one executable, subcommands registered by the files of src/cli (command_registry.hpp).
// The only place errors become messages and exit codes.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "command_registry.hpp"
#include "pinfer/core/cpu_features.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::cli {

std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> entries;
  return entries;
}

namespace {

int run(int argc, char** argv) {
  CLI::App app{"pinfer: private inference of neural networks (Server-Garbler and Client-Garbler)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Print help for every command");
  std::string cpu;
  app.add_option("--cpu", cpu, "Cap the kernel path: portable, aesni or vaes (default: widest)")
      ->envname("PINFER_CPU");
  app.parse_complete_callback([&] {
    if (!cpu.empty()) set_cpu_path_cap(parse_cpu_path(cpu));
  });

  CLI::App* bench = app.add_subcommand("bench", "Measure headline figures (like `openssl speed`)");
  bench->require_subcommand(1);

  auto& entries = command_registry();
  std::sort(entries.begin(), entries.end(),
            [](const CommandEntry& a, const CommandEntry& b) { return a.name < b.name; });
  for (const CommandEntry& e : entries) e.setup(e.parent == "bench" ? *bench : app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

}  // namespace
}  // namespace pinfer::cli

int main(int argc, char** argv) {
  try {
    return pinfer::cli::run(argc, argv);
  } catch (const pinfer::InvalidArgument& e) {
    std::fprintf(stderr, "pinfer: invalid argument: %s\n", e.what());
    return 2;
  } catch (const pinfer::Unsupported& e) {
    std::fprintf(stderr, "pinfer: unsupported: %s\n", e.what());
    return 3;
  } catch (const pinfer::Error& e) {
    std::fprintf(stderr, "pinfer: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pinfer: unexpected error: %s\n", e.what());
    return 1;
  }
}
