#include "pinfer/protocol/client_registry.hpp"

#include <openssl/crypto.h>

#include <string>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/hex.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/private_files.hpp"
#include "pinfer/core/sha256.hpp"

namespace pinfer::protocol {
namespace {

constexpr std::string_view kRegistryHeader = "pinfer-client-registry 1";
constexpr std::string_view kCredentialsHeader = "pinfer-credentials 1";
constexpr std::size_t kMaxCredentialsBytes = 4096;
// A registry line is at most "client " + 64 + " " + 64 + "\n".
constexpr std::size_t kMaxRegistryBytes = kMaxRegisteredClients * 160 + 256;
constexpr std::size_t kClientIdRandomBytes = 16;  // 128-bit ids: collisions are negligible

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// Splits the text into lines; the last one must end with '\n'.
std::vector<std::string_view> lines_of(std::string_view text, const std::string& what) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) throw FormatError(what + ": last line is not terminated");
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// Splits a line at single spaces.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t sp = line.find(' ');
    out.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) return out;
    line.remove_prefix(sp + 1);
  }
}

}  // namespace

bool valid_client_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxClientIdChars) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// ---------------------------------------------------------------- credentials file

void save_credentials(const std::filesystem::path& file, const ClientCredentials& c) {
  PINFER_ASSERT(valid_client_id(c.client_id) && c.token.size() == kClientTokenBytes);
  std::string text = std::string(kCredentialsHeader) + "\nid " + c.client_id + "\ntoken " +
                     to_hex(c.token.span()) + "\n";
  try {
    write_file_atomically(file, bytes_of(text));
  } catch (...) {
    secure_wipe(text.data(), text.size());
    throw;
  }
  secure_wipe(text.data(), text.size());
}

ClientCredentials load_credentials(const std::filesystem::path& file) {
  SecretBuffer<std::byte> raw;
  try {
    raw = read_file_capped(file, kMaxCredentialsBytes);
  } catch (const IoError& e) {
    throw IoError(std::string(e.what()) +
                      "; this client has no credentials for the server: register with it first",
                  ErrorReason::unauthenticated);
  }
  const std::string what = "credentials file " + file.string();
  const std::string_view text(reinterpret_cast<const char*>(raw.data()), raw.size());
  const std::vector<std::string_view> lines = lines_of(text, what);
  if (lines.size() != 3 || lines[0] != kCredentialsHeader) {
    throw FormatError(what + ": expected the lines '" + std::string(kCredentialsHeader) +
                      "', 'id ...', 'token ...'");
  }
  const auto id = fields_of(lines[1]);
  if (id.size() != 2 || id[0] != "id" || !valid_client_id(id[1])) {
    throw FormatError(what + " line 2: expected 'id <client id>' ([A-Za-z0-9_-], 1..64 chars)");
  }
  const auto token = fields_of(lines[2]);
  ClientCredentials c{std::string(id[1]), SecretBuffer<std::byte>(kClientTokenBytes)};
  // The token's value never appears in a message.
  if (token.size() != 2 || token[0] != "token" || !from_hex(token[1], c.token.span())) {
    throw FormatError(what + " line 3: expected 'token <" + std::to_string(2 * kClientTokenBytes) +
                      " hex digits>'");
  }
  return c;
}

// ---------------------------------------------------------------- registry

ClientRegistry::ClientRegistry(std::filesystem::path file, RegistrationPolicy policy)
    : file_(std::move(file)), policy_(policy) {
  std::error_code ec;
  if (std::filesystem::exists(file_, ec)) {
    load();
  } else {
    if (ec) throw IoError("cannot check " + file_.string() + ": " + ec.message());
    save_locked();  // an empty registry, so a later damage is never mistaken for "new"
  }
}

void ClientRegistry::load() {
  const SecretBuffer<std::byte> raw = read_file_capped(file_, kMaxRegistryBytes);
  const std::string what = "client registry " + file_.string();
  const std::string_view text(reinterpret_cast<const char*>(raw.data()), raw.size());
  const std::vector<std::string_view> lines = lines_of(text, what);
  if (lines.empty() || lines.front() != kRegistryHeader) {
    throw FormatError(what + " line 1: expected '" + std::string(kRegistryHeader) + "'");
  }
  if (lines.size() < 2) throw FormatError(what + ": the 'end' line is missing (truncated?)");
  // The trailer covers every byte before it.
  const std::size_t body_bytes = text.size() - lines.back().size() - 1;
  const auto end = fields_of(lines.back());
  const std::string line_no = std::to_string(lines.size());
  if (end.size() != 3 || end[0] != "end") {
    throw FormatError(what + " line " + line_no +
                      ": expected 'end <count> <sha256>' (file truncated or edited?)");
  }
  if (end[2] != to_hex(sha256(bytes_of(text.substr(0, body_bytes))))) {
    throw FormatError(what + ": checksum mismatch, the file is damaged (restore it from a backup)");
  }
  if (end[1] != std::to_string(lines.size() - 2)) {
    throw FormatError(what + " line " + line_no + ": client count " + std::string(end[1]) +
                      " does not match " + std::to_string(lines.size() - 2) + " entries");
  }
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    const auto f = fields_of(lines[i]);
    const std::string where = what + " line " + std::to_string(i + 1);
    Digest d{};
    if (f.size() != 3 || f[0] != "client" || !valid_client_id(f[1]) || !from_hex(f[2], d)) {
      throw FormatError(where + ": expected 'client <id> <64 hex digits>'");
    }
    if (!clients_.emplace(std::string(f[1]), d).second) {
      throw FormatError(where + ": client id " + std::string(f[1]) + " appears twice");
    }
  }
}

void ClientRegistry::save_locked() const {
  std::string text = std::string(kRegistryHeader) + "\n";
  for (const auto& [id, digest] : clients_) text += "client " + id + " " + to_hex(digest) + "\n";
  text += "end " + std::to_string(clients_.size()) + " " + to_hex(sha256(bytes_of(text))) + "\n";
  write_file_atomically(file_, bytes_of(text));
}

void ClientRegistry::require_secret(std::span<const std::byte> secret) {
  if (secret.empty() || secret.size() > kMaxRegistrationSecretBytes) {
    throw InvalidArgument("registration secret has " + std::to_string(secret.size()) +
                          " bytes; expected 1.." + std::to_string(kMaxRegistrationSecretBytes));
  }
  std::lock_guard lock(mu_);
  secret_hash_ = sha256(secret);
  policy_ = RegistrationPolicy::with_secret;
}

ClientCredentials ClientRegistry::register_client(std::span<const std::byte> presented_secret) {
  if (policy_ == RegistrationPolicy::closed) {
    throw ProtocolError("registration is closed on this server; ask its operator for access",
                        ErrorReason::registration_refused);
  }
  if (policy_ == RegistrationPolicy::with_secret) {
    // Hashing first makes the comparison length-independent and constant time.
    const Digest h = sha256(presented_secret);
    if (presented_secret.empty() || !secret_hash_ ||
        CRYPTO_memcmp(h.data(), secret_hash_->data(), h.size()) != 0) {
      throw ProtocolError(
          "registration refused: this server requires the registration secret and the one "
          "presented is missing or wrong",
          ErrorReason::registration_refused);
    }
  }
  std::byte raw_id[kClientIdRandomBytes];
  os_random_bytes(raw_id);
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
  std::string id = "c";
  id += to_hex(raw_id);
  ClientCredentials c{std::move(id), SecretBuffer<std::byte>(kClientTokenBytes)};
  os_random_bytes(c.token.span());
  std::lock_guard lock(mu_);
  if (clients_.size() >= kMaxRegisteredClients) {
    throw StoreError("client registry is full (" + std::to_string(kMaxRegisteredClients) +
                     " clients)");
  }
  PINFER_ASSERT(!clients_.contains(c.client_id));  // 128 random bits
  clients_.emplace(c.client_id, sha256(c.token.span()));
  try {
    save_locked();  // persisted before the token leaves the server
  } catch (...) {
    clients_.erase(c.client_id);
    throw;
  }
  return c;
}

void ClientRegistry::authenticate(std::string_view client_id,
                                  std::span<const std::byte> token) const {
  // Secret: token. Its hash is compared with CRYPTO_memcmp (constant time); the id is public.
  const Digest presented = sha256(token);
  std::lock_guard lock(mu_);
  const auto it = clients_.find(client_id);
  if (it == clients_.end()) {
    throw ProtocolError("unknown client id '" + std::string(client_id) +
                            "': this server has no such client; register with it first",
                        ErrorReason::unauthenticated);
  }
  if (token.size() != kClientTokenBytes ||
      CRYPTO_memcmp(presented.data(), it->second.data(), presented.size()) != 0) {
    throw ProtocolError(
        "authentication failed for client '" + std::string(client_id) + "': wrong token",
        ErrorReason::unauthenticated);
  }
}

std::size_t ClientRegistry::size() const {
  std::lock_guard lock(mu_);
  return clients_.size();
}

}  // namespace pinfer::protocol
