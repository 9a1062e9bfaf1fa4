#pragma once
// Each command lives in its own file and registers itself here at static-initialisation time,
// so adding a command never edits a shared file. `parent` is "" for top-level commands or the
// name of a command group created by main ("bench").
#include <CLI/CLI.hpp>

#include <string_view>
#include <vector>

namespace pinfer::cli {

using CommandSetup = void (*)(CLI::App& parent);

struct CommandEntry {
  std::string_view parent;
  std::string_view name;  // for a stable order in --help
  CommandSetup setup;
};

[[nodiscard]] std::vector<CommandEntry>& command_registry();

struct CommandRegistration {
  CommandRegistration(std::string_view parent, std::string_view name, CommandSetup setup) {
    command_registry().push_back({parent, name, setup});
  }
};

}  // namespace pinfer::cli
