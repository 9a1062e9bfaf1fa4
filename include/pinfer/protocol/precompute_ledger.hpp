#pragma once
// A record of a server's precomputes beyond its own store, told of every precompute the server
// stores, takes and consumes: a fleet's shared index (cluster::ClusterNode, docs/DEPLOYMENT.md)
// implements it. The local store keeps its own single-use guarantee; a ledger adds a fleet-wide
// one by refusing a take it does not allow.
//
// Thread safety: called concurrently from the server's sessions.
#include <optional>
#include <string>
#include <string_view>

namespace pinfer::protocol {

class PrecomputeLedger {
 public:
  virtual ~PrecomputeLedger() = default;
  // The precompute was published in the local store. Throws (any pinfer::Error) when it cannot
  // be recorded; the server then removes it and tells the client its store refused it.
  virtual void stored(std::string_view client, std::string_view id) = 0;
  // Before the local store's take: throws StoreError when the precompute may not be used (it
  // was taken elsewhere, lost, or this server was fenced off); the client is told so.
  virtual void take(std::string_view client, std::string_view id) = 0;
  // The precompute that take() allowed is used up (its online phase ran, or it proved unusable).
  // Never throws: failures are the ledger's to report.
  virtual void consumed(std::string_view client, std::string_view id) noexcept = 0;

  // Routing (a fleet's shared client registry; the defaults are a lone server's).
  // A client registered with this server: `token_sha256_hex` is SHA-256 of its token in hex
  // (never the token). Throws when it cannot be recorded; the registration then fails.
  virtual void client_registered(std::string_view client, std::string_view token_sha256_hex) {}
  // For a client the local registry does not know (registered with another node): true if the
  // fleet knows it with this token hash. Compares in constant time.
  [[nodiscard]] virtual bool authenticate(std::string_view client,
                                          std::string_view token_sha256_hex) {
    return false;
  }
  // For an authenticated client: the HOST:PORT of its home node when that is not this server
  // (the client is redirected there), nullopt to serve it here.
  [[nodiscard]] virtual std::optional<std::string> redirect_for(std::string_view client) {
    return std::nullopt;
  }
};

}  // namespace pinfer::protocol
