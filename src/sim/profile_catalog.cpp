#include "pinfer/sim/profile_catalog.hpp"

#include <filesystem>

#include "pinfer/core/error.hpp"

namespace pinfer::sim {
namespace {

bool safe_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

std::string resolve_profile_path(std::string_view spec,
                                 const std::vector<std::string>& search_dirs) {
  constexpr std::string_view kPaper = "paper:";
  if (spec.substr(0, kPaper.size()) == kPaper) {
    const std::string_view rest = spec.substr(kPaper.size());
    const auto slash = rest.find('/');
    bool ok = slash != std::string_view::npos && slash > 0 && slash + 1 < rest.size() &&
              rest.find('/', slash + 1) == std::string_view::npos;
    for (char c : rest) ok = ok && (c == '/' || safe_name_char(c));
    if (!ok) {
      throw InvalidArgument("profile \"" + std::string(spec) +
                            "\": expected paper:<dataset>/<network>, e.g. paper:cifar10/resnet18");
    }
    std::string tried;
    for (const std::string& dir : search_dirs) {
      const std::filesystem::path p =
          std::filesystem::path(dir) / "paper" / (std::string(rest) + ".json");
      if (std::filesystem::is_regular_file(p)) return p.string();
      tried += (tried.empty() ? "" : ", ") + p.string();
    }
    throw InvalidArgument("profile \"" + std::string(spec) + "\" not found (looked for " +
                          (tried.empty() ? std::string("<no search directories>") : tried) +
                          "); give a profile file or a directory that holds it");
  }
  if (std::filesystem::is_regular_file(std::string(spec))) return std::string(spec);
  throw InvalidArgument("profile \"" + std::string(spec) +
                        "\": no such file (use paper:<dataset>/<network> or a path)");
}

CostProfile load_profile_spec(std::string_view spec, const std::vector<std::string>& search_dirs) {
  return load_cost_profile(resolve_profile_path(spec, search_dirs));
}

}  // namespace pinfer::sim
