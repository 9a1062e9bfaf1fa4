#pragma once
// The shipped data (models/, profiles/, scenarios/) the commands use by default, found where
// the binary is, so an installed or moved `pinfer` works without the source tree:
// $PINFER_DATA_DIR if set, else <folder of the executable>/../share/pinfer (the install layout,
// which the build tree mirrors with links to the source folders).
#include <filesystem>
#include <optional>
#include <string_view>

namespace pinfer::cli {

// The data folder, or nullopt when neither place holds one. Throws IoError when
// PINFER_DATA_DIR names something that is not a folder (a typo must not fall back silently).
[[nodiscard]] std::optional<std::filesystem::path> find_data_dir();

// <data folder>/<relative>; throws IoError naming the places searched when there is no data
// folder or it lacks the file.
[[nodiscard]] std::filesystem::path data_file(std::string_view relative);

}  // namespace pinfer::cli
