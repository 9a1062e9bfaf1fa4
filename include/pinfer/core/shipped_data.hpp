#pragma once
// Where the shipped data (models/, profiles/, scenarios/) is, for the programs on top (the
// `pinfer` command, the Python module): $PINFER_DATA_DIR if set, else the install layout's
// share/pinfer found from the program's own file, never a source path compiled in.
#include <filesystem>
#include <optional>

namespace pinfer {

// $PINFER_DATA_DIR when set (IoError when it is not a folder: a typo must not fall back
// silently); else the first <dir>/share/pinfer that is a folder, for dir = `start` and then up to
// `parents` of its parent folders; nullopt when none is.
[[nodiscard]] std::optional<std::filesystem::path> find_shipped_data(
    const std::filesystem::path& start, int parents);

}  // namespace pinfer
