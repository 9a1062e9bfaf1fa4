#pragma once
// A server as a node of a fleet (`pinfer serve --cluster`, docs/DEPLOYMENT.md): joins the
// cluster database (refused for another model or protocol), heartbeats on a thread of its own
// with its free bytes, declares silent nodes dead, and records its precomputes' states as the
// server stores, takes and consumes them (the protocol's PrecomputeLedger).
//
// Fencing: when its heartbeat is refused (it was declared dead, e.g. after a pause longer than
// dead_after), the node rejoins under a new epoch; its old precomputes are lost for good and
// every take of one is refused, so nothing it held before is ever served.
//
// Thread safety: the ledger calls may come from any thread. Two database connections: one for
// the heartbeat thread, one for the sessions' ledger calls (serialized).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "pinfer/cluster/cluster_state.hpp"
#include "pinfer/protocol/precompute_ledger.hpp"

namespace pinfer::cluster {

struct ClusterNodeOptions {
  std::chrono::milliseconds heartbeat_interval{1000};
  // A node silent this long is declared dead by whichever node sweeps next. Must exceed
  // heartbeat_interval.
  std::chrono::milliseconds dead_after{10000};
  ClusterOptions connection;
  // The node's free store bytes, read for every heartbeat; null: the join's free_bytes.
  std::function<uint64_t()> free_bytes;
  // Where the node reports what happened (rejoins, database errors); null: silent. Messages hold
  // no secrets.
  std::function<void(std::string_view)> log;
};

class ClusterNode : public protocol::PrecomputeLedger {
 public:
  // Connects twice, requires an initialised schema (InvalidArgument pointing at `pinfer
  // cluster init` otherwise), joins and starts heartbeating. Throws what ClusterState::join
  // throws (InvalidArgument for another model or protocol), IoError when the database is down.
  ClusterNode(const std::string& url, NodeJoin join, ClusterNodeOptions options);
  ~ClusterNode() override;
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  [[nodiscard]] NodeLease lease() const;
  // Rejoins after being declared dead (how often so far).
  [[nodiscard]] uint64_t rejoins() const noexcept { return rejoins_.load(); }

  void stored(std::string_view client, std::string_view id) override;
  void take(std::string_view client, std::string_view id) override;
  void consumed(std::string_view client, std::string_view id) noexcept override;
  // Registers the client in the cluster with this node as its home.
  void client_registered(std::string_view client, std::string_view token_sha256_hex) override;
  [[nodiscard]] bool authenticate(std::string_view client,
                                  std::string_view token_sha256_hex) override;
  // The home's address when it is another node (re-homing the client first if its home is
  // dead); nullopt when this node is the home or the cluster does not know the client.
  [[nodiscard]] std::optional<std::string> redirect_for(std::string_view client) override;

 private:
  void heartbeat_loop();
  void log(const std::string& message) const;

  NodeJoin join_;
  ClusterNodeOptions options_;
  std::unique_ptr<ClusterState> beat_;    // the heartbeat thread's connection
  std::unique_ptr<ClusterState> ledger_;  // the sessions' connection
  mutable std::mutex lease_mutex_;
  NodeLease lease_;
  std::atomic<uint64_t> rejoins_{0};
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pinfer::cluster
