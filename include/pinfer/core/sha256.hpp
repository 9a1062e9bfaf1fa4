#pragma once
// SHA-256 (FIPS 180-4, through OpenSSL 3's EVP interface): store MANIFEST checksums, the
// architecture fingerprint, the registry's token hashes, HE key de-duplication.
#include <array>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace pinfer {

inline constexpr std::size_t kSha256Bytes = 32;
using Sha256Digest = std::array<std::byte, kSha256Bytes>;

[[nodiscard]] Sha256Digest sha256(std::span<const std::byte> data);
[[nodiscard]] Sha256Digest sha256(std::string_view text);

// The digest in lower-case hex (64 digits).
[[nodiscard]] std::string sha256_hex(std::span<const std::byte> data);
[[nodiscard]] std::string sha256_hex(std::string_view text);
// Of a whole file, read in 1 MiB pieces (memory stays bounded for any size). Throws IoError
// naming the file if it cannot be opened or read.
[[nodiscard]] std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace pinfer
