#pragma once
// SHA-256 and hex helpers for manifests and fingerprints (OpenSSL EVP).
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace pinfer::protocol::detail {

[[nodiscard]] std::string to_hex(std::span<const unsigned char> bytes);
[[nodiscard]] std::string sha256_hex(std::span<const std::byte> data);
[[nodiscard]] inline std::string sha256_hex(std::string_view text) {
  return sha256_hex(std::as_bytes(std::span<const char>(text.data(), text.size())));
}
// Throws IoError if the file cannot be read.
[[nodiscard]] std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace pinfer::protocol::detail
