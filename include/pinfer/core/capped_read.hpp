#pragma once
// Reading a whole file whose size is capped before anything is allocated: every file pinfer
// reads (state and credentials, manifests, PEM files, models, inputs, JSON profiles and
// scenarios) may be hostile or simply huge, so its size is checked against a limit first.
#include <cstddef>
#include <filesystem>

#include "pinfer/core/secret_buffer.hpp"

namespace pinfer {

// Reads the whole regular file into a wiping buffer (files may hold secrets; wiping a public
// one costs little). Throws IoError naming the path if it cannot be opened or read, FormatError
// naming the path, its size and the limit if it is not a regular file or is larger than
// max_bytes (checked before allocating).
[[nodiscard]] SecretBuffer<std::byte> read_file_capped(const std::filesystem::path& path,
                                                       std::size_t max_bytes);

}  // namespace pinfer
