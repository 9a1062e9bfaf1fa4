#pragma once
// Files and folders that hold secret state (precompute state and garbled tables, store
// journals and manifests, client credentials, the registry of token hashes, TLS keys).
//
// Every such file is created with mode 0600 and every such folder with mode 0700, whatever the
// umask: a precompute's state file holds the garbling offset, label seeds and masks, and anyone
// who can read it can decode the session that uses it. One home for these rules, so no writer
// can forget them.
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

// Such files are read back with read_file_capped, which this header brings along.
#include "pinfer/core/capped_read.hpp"

namespace pinfer {

inline constexpr mode_t kPrivateFileMode = 0600;
inline constexpr mode_t kPrivateDirectoryMode = 0700;

// Writes `bytes` to a temporary file beside `path` (created O_EXCL with `mode`), fsyncs it,
// renames it over `path` and fsyncs the folder, so a crash leaves the old or the new file, never
// a mix, and the file never exists with a wider mode. Throws IoError naming the path (the
// temporary file is removed).
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes,
                           mode_t mode = kPrivateFileMode);
void write_file_atomically(const std::filesystem::path& path, std::string_view text,
                           mode_t mode = kPrivateFileMode);

// Creates `dir` and any missing parents with mode 0700 (folders that already exist keep their
// mode, so a store under /tmp does not change /tmp), then sets `dir` itself to 0700. Throws
// IoError naming the folder.
void create_private_directories(const std::filesystem::path& dir);

// Opens `path` for writing, created or truncated, with mode 0600 (also when it existed with a
// wider mode). Returns the descriptor (O_CLOEXEC); the caller closes it. Throws IoError.
[[nodiscard]] int open_private_file_for_writing(const std::filesystem::path& path);

// fsyncs a file or a folder (a folder after a rename in it, so the rename survives a crash).
// Throws IoError naming the path.
void fsync_path(const std::filesystem::path& path, bool directory);

}  // namespace pinfer
