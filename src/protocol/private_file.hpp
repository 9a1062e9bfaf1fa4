#pragma once
// Files that hold secrets or their hashes (client registry, client credentials): written with
// mode 0600 and replaced atomically, read with a size cap.
#include <cstddef>
#include <filesystem>
#include <span>

#include "pinfer/core/secret_buffer.hpp"

namespace pinfer::protocol::detail {

// Writes `bytes` to a temporary file beside `path` (mode 0600), fsyncs it, renames it over
// `path` and fsyncs the directory, so a crash leaves the old or the new file, never a mix.
// Throws IoError naming the path (the temporary file is removed).
void write_private_file_atomically(const std::filesystem::path& path,
                                   std::span<const std::byte> bytes);

// Reads the whole file into a wiping buffer. Throws IoError if it cannot be read, FormatError
// if it is larger than max_bytes (checked before allocating).
[[nodiscard]] SecretBuffer<std::byte> read_private_file(const std::filesystem::path& path,
                                                        std::size_t max_bytes);

}  // namespace pinfer::protocol::detail
