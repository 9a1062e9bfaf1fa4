#pragma once
// Finding cost profiles by name: "paper:<dataset>/<network>" names a shipped profile
// (profiles/paper/<dataset>/<network>.json under one of the search directories); anything else
// is a path to a profile file.
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/sim/cost_profile.hpp"

namespace pinfer::sim {

// Path of the profile named by `spec`, looked up in `search_dirs` in order for "paper:" names.
// Throws InvalidArgument naming the spec and the directories searched if none exists, or if a
// "paper:" name contains anything but [a-z0-9_-] and one '/'.
[[nodiscard]] std::string resolve_profile_path(std::string_view spec,
                                               const std::vector<std::string>& search_dirs);

// resolve_profile_path + load_cost_profile.
[[nodiscard]] CostProfile load_profile_spec(std::string_view spec,
                                            const std::vector<std::string>& search_dirs);

}  // namespace pinfer::sim
