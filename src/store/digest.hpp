#pragma once
// SHA-256 and hex for the store's MANIFEST checksums (OpenSSL EVP). The same helpers as
// src/protocol/digest.hpp, which cannot be used from here (store sits below protocol); both go
// once core has SHA-256 and hex of its own.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace pinfer::store::detail {

[[nodiscard]] std::string to_hex(std::span<const unsigned char> bytes);
[[nodiscard]] std::string sha256_hex(std::span<const std::byte> data);
[[nodiscard]] inline std::string sha256_hex(std::string_view text) {
  return sha256_hex(std::as_bytes(std::span<const char>(text.data(), text.size())));
}
// Throws IoError if the file cannot be read.
[[nodiscard]] std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace pinfer::store::detail
