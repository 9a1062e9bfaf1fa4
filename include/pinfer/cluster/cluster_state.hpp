#pragma once
// The shared state of a fleet of pinfer servers, kept in PostgreSQL (docs/DEPLOYMENT.md).
//
// What the database holds (schema v1, created by init()):
//   pinfer_schema       the schema version
//   pinfer_fleet        the one model digest and protocol every node of the fleet serves
//   pinfer_nodes        id, address, model digest, protocol, capacity and free bytes, the last
//                       heartbeat (database time), epoch, state alive | draining | dead
//   pinfer_clients      client id, SHA-256 of its token (never the token), home node
//   pinfer_precomputes  id, client, node, the node epoch it was stored under, state
//                       stored | taken | consumed | lost
// Nothing secret: garbled circuits, keys and shares stay in the nodes' stores.
//
// Single use across the fleet: take_precompute moves one precompute from stored to taken in one
// transaction with a conditional UPDATE, so of any number of racing takers exactly one wins.
// Fencing: a node is declared dead by mark_dead_nodes after its heartbeats stop; that bumps its
// epoch and marks its precomputes lost. Every write a node makes names the epoch its join
// returned, so a node that comes back after being declared dead (still holding the old epoch)
// can neither heartbeat nor take anything; rejoining gives it a new epoch and none of its old
// precomputes.
//
// Times (heartbeats, dead detection) are the database's clock, so nodes' clocks do not matter.
//
// Thread safety: one ClusterState is one database connection, serialized by a mutex; it may
// be shared by threads (a node's heartbeat thread and its sessions).
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/protocol/protocol_kind.hpp"

namespace pinfer::cluster {

class PgConnection;

enum class NodeState : unsigned char { alive, draining, dead };
enum class PrecomputeState : unsigned char { stored, taken, consumed, lost };

[[nodiscard]] std::string_view to_string(NodeState state) noexcept;
[[nodiscard]] std::string_view to_string(PrecomputeState state) noexcept;

// What a node announces when it joins.
struct NodeJoin {
  std::string node_id;       // [A-Za-z0-9._-], 1..64 characters
  std::string address;       // host:port clients reach it at
  std::string model_digest;  // hex digest of the served model
  protocol::ProtocolKind protocol = protocol::ProtocolKind::client_garbler;
  uint64_t capacity_bytes = 0;  // the node's precompute store capacity
  uint64_t free_bytes = 0;
};

// A node's identity for writes: its id and the epoch join() returned (the fencing token).
struct NodeLease {
  std::string node_id;
  uint64_t epoch = 0;
};

struct NodeInfo {
  std::string node_id, address, model_digest;
  protocol::ProtocolKind protocol = protocol::ProtocolKind::client_garbler;
  uint64_t capacity_bytes = 0, free_bytes = 0;
  uint64_t heartbeat_age_ms = 0;  // database time since the last heartbeat
  uint64_t epoch = 0;
  NodeState state = NodeState::alive;
  uint64_t stored_precomputes = 0;  // precomputes in state stored on this node
};

struct ClientInfo {
  std::string client_id;
  std::optional<std::string> home_node;
};

struct PrecomputeCounts {
  uint64_t stored = 0, taken = 0, consumed = 0, lost = 0;
};

struct ClusterStatus {
  std::optional<std::string> model_digest;  // nullopt until the first node joins
  std::optional<protocol::ProtocolKind> protocol;
  std::vector<NodeInfo> nodes;      // by id
  std::vector<ClientInfo> clients;  // by id
  PrecomputeCounts precomputes;
  uint64_t capacity_bytes = 0, free_bytes = 0;  // over nodes not dead
};

struct ClusterOptions {
  std::chrono::seconds connect_timeout{5};
};

class ClusterState {
 public:
  static constexpr int kSchemaVersion = 1;

  // Connects to the database at `url` (postgresql://user@host:port/dbname, or libpq key=value
  // pairs). Throws InvalidArgument for a malformed URL and IoError when the database cannot be
  // reached within options.connect_timeout; messages never hold the password.
  explicit ClusterState(const std::string& url, ClusterOptions options = {});
  ~ClusterState();
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  // Creates schema v1 if absent; idempotent, safe when several processes call it at once.
  // Throws Unsupported when the database holds a newer schema than this build knows.
  void init();
  // The schema version in the database, 0 when init() never ran.
  [[nodiscard]] int schema_version();

  // Joins (or rejoins) a node and returns its lease with a new epoch. The first node fixes the
  // fleet's model digest and protocol; a node with another one is refused (InvalidArgument
  // naming both). A node that was declared dead comes back with none of its old precomputes
  // (they are lost); a live node rejoining after a restart keeps its stored ones.
  [[nodiscard]] NodeLease join(const NodeJoin& node);
  // Records a heartbeat and the node's free bytes. Throws ProtocolError when the lease is stale
  // (the node was declared dead or rejoined elsewhere): the node must stop serving and rejoin.
  void heartbeat(const NodeLease& lease, uint64_t free_bytes);
  // Declares dead every alive or draining node whose last heartbeat is older than `dead_after`:
  // bumps its epoch (fencing) and marks its stored and taken precomputes lost. Returns their ids.
  std::vector<std::string> mark_dead_nodes(std::chrono::milliseconds dead_after);
  // Stops placing new clients on the node; it keeps serving the clients it has. Throws
  // InvalidArgument for an unknown or dead node.
  void drain(std::string_view node_id);

  // Records a precompute the node stored for a client. Throws StoreError when the lease is stale
  // and InvalidArgument when the id exists already.
  void add_precompute(const NodeLease& lease, std::string_view precompute_id,
                      std::string_view client_id);
  // Moves the precompute from stored to taken, in one transaction; exactly one of any racing
  // takers succeeds. Throws StoreError (naming the precompute and why) when it is not stored on
  // this node under this lease's epoch: unknown, already taken, consumed, lost, or fenced.
  // With `client_id`, only that client's precompute (a session takes only its own client's).
  void take_precompute(const NodeLease& lease, std::string_view precompute_id,
                       std::string_view client_id = {});
  // Moves a precompute this node took from taken to consumed. Throws StoreError otherwise.
  void consume_precompute(const NodeLease& lease, std::string_view precompute_id);
  // Marks the stored and taken precomputes of a dead node lost; returns how many. Throws
  // InvalidArgument when the node is not dead.
  uint64_t mark_precomputes_lost(std::string_view node_id);
  [[nodiscard]] std::optional<PrecomputeState> precompute_state(std::string_view precompute_id);

  // Registers a client by the SHA-256 of its token (64 hex digits; never the token itself) with
  // `home_node`, or with the live node with the most free capacity when nullopt. Returns the
  // home. Registering a known client again replaces its token hash and keeps its home.
  std::string register_client(std::string_view client_id, std::string_view token_sha256_hex,
                              std::optional<std::string> home_node = std::nullopt);
  [[nodiscard]] std::optional<std::string> home_node(std::string_view client_id);
  // The client's stored token hash (hex), nullopt for an unknown client.
  [[nodiscard]] std::optional<std::string> token_hash(std::string_view client_id);
  // Moves the client to the alive node with the most free bytes (ties by id) and marks its
  // precomputes on the old home that are still stored lost. Returns the new home. Throws
  // StoreError when no node is alive, InvalidArgument for an unknown client.
  std::string rehome_client(std::string_view client_id);

  // Where the client is served: its home node's id and address, after re-homing it (as
  // rehome_client) when the home is dead. nullopt for a client the cluster does not know or
  // without a home. Throws StoreError when its home is dead and no node is alive.
  struct Route {
    std::string node_id, address;
    bool rehomed = false;
  };
  [[nodiscard]] std::optional<Route> route_client(std::string_view client_id);

  [[nodiscard]] ClusterStatus status();
  // "database D on HOST:PORT", for messages (no user, no password).
  [[nodiscard]] std::string describe() const;

 private:
  std::mutex mutex_;
  std::unique_ptr<PgConnection> conn_;
};

}  // namespace pinfer::cluster
