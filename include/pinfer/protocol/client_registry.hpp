#pragma once
// Client identity: the server issues each client a random id and a 256-bit token at
// registration (`pinfer client register`) and keeps only SHA-256(token) in a registry file in
// its store directory. Every later session presents id + token; the server checks the token in
// constant time before anything else and keys the client's precomputes by the authenticated
// id, so a client can only use or delete its own precomputes (docs/PROTOCOLS.md, "Transport
// security and client identity").
//
// Registry file (text, one line each, written atomically: tmp file, fsync, rename, fsync dir;
// mode 0600):
//   pinfer-client-registry 1
//   client <id> <sha256 of the token, 64 hex>
//   ...
//   end <number of clients> <sha256 hex of every byte before this line>
// The trailer detects truncation and corruption: a damaged registry is a FormatError naming the
// file and line, never a silently shorter list (which would lock clients out or, worse, let a
// reused id through).
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pinfer/core/secret_buffer.hpp"

namespace pinfer::protocol {

inline constexpr std::size_t kClientTokenBytes = 32;  // 256-bit tokens
// Caps for decoding untrusted text (registry file, credentials file, network).
inline constexpr std::size_t kMaxClientIdChars = 64;
inline constexpr std::size_t kMaxRegistrationSecretBytes = 1024;
inline constexpr std::size_t kMaxRegisteredClients = 1 << 20;

// What a registered client presents. The token is secret: it lives in a wiping buffer and is
// never printed. Move-only; copies are clone().
struct ClientCredentials {
  std::string client_id;
  SecretBuffer<std::byte> token;  // kClientTokenBytes

  [[nodiscard]] ClientCredentials clone() const { return {client_id, token.clone()}; }
};

// Writes `file` (mode 0600, atomically) / reads it back. The file holds "pinfer-credentials 1",
// "id <id>" and "token <64 hex>" lines. load throws IoError if the file cannot be read (its
// message tells the user to run `pinfer client register`), FormatError if it is malformed.
void save_credentials(const std::filesystem::path& file, const ClientCredentials& credentials);
[[nodiscard]] ClientCredentials load_credentials(const std::filesystem::path& file);

// Who may register.
enum class RegistrationPolicy {
  open,         // anyone who can reach the server (default; see docs/PROTOCOLS.md)
  closed,       // nobody: the registry is managed offline
  with_secret,  // whoever presents the shared registration secret
};

// Thread safety: all members may be called concurrently.
class ClientRegistry {
 public:
  // Opens `file` (creating an empty registry if it does not exist). Throws FormatError if the
  // file is damaged, IoError if it cannot be read or created.
  explicit ClientRegistry(std::filesystem::path file,
                          RegistrationPolicy policy = RegistrationPolicy::open);
  ClientRegistry(const ClientRegistry&) = delete;
  ClientRegistry& operator=(const ClientRegistry&) = delete;

  // with_secret: only SHA-256(secret) is kept. Throws InvalidArgument on an empty secret or
  // one above kMaxRegistrationSecretBytes.
  void require_secret(std::span<const std::byte> secret);

  // Issues a fresh id and token (OS randomness) and persists SHA-256(token) before returning.
  // Throws ProtocolError if the policy refuses (closed, or a missing / wrong secret), StoreError
  // if the registry is full, IoError if the file cannot be written (nothing is registered then).
  [[nodiscard]] ClientCredentials register_client(std::span<const std::byte> presented_secret);

  // Checks id + token. The token comparison is constant time. Throws ProtocolError naming the
  // id (never the token) for an unknown id or a wrong token.
  void authenticate(std::string_view client_id, std::span<const std::byte> token) const;

  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] RegistrationPolicy policy() const noexcept { return policy_; }
  [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }

 private:
  using Digest = std::array<std::byte, 32>;
  void load();
  void save_locked() const;

  std::filesystem::path file_;
  RegistrationPolicy policy_;
  std::optional<Digest> secret_hash_;
  mutable std::mutex mu_;
  std::map<std::string, Digest, std::less<>> clients_;  // id -> SHA-256(token)
};

// True if `id` has the shape of a client id ([A-Za-z0-9_-], 1..kMaxClientIdChars).
[[nodiscard]] bool valid_client_id(std::string_view id) noexcept;

}  // namespace pinfer::protocol
