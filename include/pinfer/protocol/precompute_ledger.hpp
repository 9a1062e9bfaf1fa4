#pragma once
// A record of a server's precomputes beyond its own store, told of every precompute the server
// stores, takes and consumes: a fleet's shared index (cluster::ClusterNode, docs/DEPLOYMENT.md)
// implements it. The local store keeps its own single-use guarantee; a ledger adds a fleet-wide
// one by refusing a take it does not allow.
//
// Thread safety: called concurrently from the server's sessions.
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
};

}  // namespace pinfer::protocol
