#include "pinfer/cluster/cluster_state.hpp"

#include <algorithm>

#include "cluster/pg_connection.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::cluster {

namespace {

// Serializes init() and join() across processes (pg_advisory_xact_lock keys; arbitrary, fixed).
constexpr const char* kInitLockKey = "7307381651001";
constexpr const char* kJoinLockKey = "7307381651002";

constexpr size_t kMaxIdChars = 128;

bool id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// Ids come from the command line, a node's config or a peer: checked before they reach SQL (as
// parameters) or a message.
void check_id(std::string_view field, std::string_view id, size_t max_chars = kMaxIdChars) {
  if (id.empty() || id.size() > max_chars || !std::all_of(id.begin(), id.end(), id_char)) {
    throw InvalidArgument(std::string(field) + " must be 1.." + std::to_string(max_chars) +
                          " characters of [A-Za-z0-9._-] (got " + std::to_string(id.size()) +
                          " characters)");
  }
}

void check_text(std::string_view field, std::string_view value, size_t max_chars) {
  const bool printable =
      std::all_of(value.begin(), value.end(), [](char c) { return c > ' ' && c < 0x7f; });
  if (value.empty() || value.size() > max_chars || !printable) {
    throw InvalidArgument(std::string(field) + " must be 1.." + std::to_string(max_chars) +
                          " printable characters without spaces");
  }
}

void check_sha256_hex(std::string_view hex) {
  const bool ok = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
                    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                  });
  if (!ok) throw InvalidArgument("token hash must be 64 lowercase hex digits (a SHA-256)");
}

std::string str(std::string_view s) {
  return std::string(s);
}
std::string num(uint64_t v) {
  return std::to_string(v);
}

// Byte counts are bigint in the database.
void check_bytes(std::string_view field, uint64_t bytes) {
  if (bytes > static_cast<uint64_t>(INT64_MAX)) {
    throw InvalidArgument(std::string(field) + " " + num(bytes) + " exceeds " + num(INT64_MAX));
  }
}

NodeState parse_node_state(const std::string& s) {
  if (s == "alive") return NodeState::alive;
  if (s == "draining") return NodeState::draining;
  if (s == "dead") return NodeState::dead;
  throw FormatError("cluster database holds an unknown node state '" + s + "'");
}

PrecomputeState parse_precompute_state(const std::string& s) {
  if (s == "stored") return PrecomputeState::stored;
  if (s == "taken") return PrecomputeState::taken;
  if (s == "consumed") return PrecomputeState::consumed;
  if (s == "lost") return PrecomputeState::lost;
  throw FormatError("cluster database holds an unknown precompute state '" + s + "'");
}

// Schema v1. Each statement is sent on its own (PQexecParams takes one statement).
constexpr const char* kSchemaV1[] = {
    "CREATE TABLE pinfer_fleet ("
    "  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
    "  model_digest text NOT NULL,"
    "  protocol text NOT NULL)",
    "CREATE TABLE pinfer_nodes ("
    "  id text PRIMARY KEY,"
    "  address text NOT NULL,"
    "  model_digest text NOT NULL,"
    "  protocol text NOT NULL,"
    "  capacity_bytes bigint NOT NULL CHECK (capacity_bytes >= 0),"
    "  free_bytes bigint NOT NULL CHECK (free_bytes >= 0),"
    "  heartbeat_at timestamptz NOT NULL,"
    "  epoch bigint NOT NULL CHECK (epoch >= 1),"
    "  state text NOT NULL CHECK (state IN ('alive', 'draining', 'dead')))",
    "CREATE TABLE pinfer_clients ("
    "  id text PRIMARY KEY,"
    "  token_sha256 text NOT NULL CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),"
    "  home_node text REFERENCES pinfer_nodes (id))",
    "CREATE TABLE pinfer_precomputes ("
    "  id text PRIMARY KEY,"
    "  client_id text NOT NULL,"
    "  node_id text NOT NULL REFERENCES pinfer_nodes (id),"
    "  epoch bigint NOT NULL,"
    "  state text NOT NULL CHECK (state IN ('stored', 'taken', 'consumed', 'lost')),"
    "  updated_at timestamptz NOT NULL DEFAULT clock_timestamp())",
    "CREATE INDEX pinfer_precomputes_node_state ON pinfer_precomputes (node_id, state)",
    "CREATE INDEX pinfer_precomputes_client ON pinfer_precomputes (client_id)",
};

// Marks the stored and taken precomputes of every dead node lost.
void lose_precomputes_of_dead_nodes(PgConnection& conn) {
  conn.exec("marking the precomputes of dead nodes lost",
            "UPDATE pinfer_precomputes p SET state = 'lost', updated_at = clock_timestamp() "
            "FROM pinfer_nodes n WHERE p.node_id = n.id AND n.state = 'dead' "
            "AND p.state IN ('stored', 'taken')");
}

// Checks under a share lock (held to the end of the transaction, so the node cannot be declared
// dead halfway) that `lease` is the node's current epoch and the node is not dead.
void check_lease_locked(PgConnection& conn, const NodeLease& lease, std::string_view what) {
  const PgResult r = conn.exec(
      what, "SELECT epoch, state FROM pinfer_nodes WHERE id = $1 FOR SHARE", {lease.node_id});
  if (r.rows() == 0) {
    throw StoreError(str(what) + ": node '" + lease.node_id + "' is not in the cluster");
  }
  const uint64_t epoch = r.uint64(0, 0);
  const std::string state = r.text(0, 1);
  if (epoch != lease.epoch || state == "dead") {
    throw StoreError(str(what) + ": node '" + lease.node_id + "' holds epoch " + num(lease.epoch) +
                     " but the cluster has it at epoch " + num(epoch) + " (" + state +
                     "); it was declared dead or rejoined, and must rejoin");
  }
}

}  // namespace

std::string_view to_string(NodeState state) noexcept {
  switch (state) {
    case NodeState::alive:
      return "alive";
    case NodeState::draining:
      return "draining";
    case NodeState::dead:
      return "dead";
  }
  return "?";
}

std::string_view to_string(PrecomputeState state) noexcept {
  switch (state) {
    case PrecomputeState::stored:
      return "stored";
    case PrecomputeState::taken:
      return "taken";
    case PrecomputeState::consumed:
      return "consumed";
    case PrecomputeState::lost:
      return "lost";
  }
  return "?";
}

ClusterState::ClusterState(const std::string& url, ClusterOptions options)
    : conn_(std::make_unique<PgConnection>(url, options.connect_timeout)) {}

ClusterState::~ClusterState() = default;

std::string ClusterState::describe() const {
  return conn_->describe();
}

void ClusterState::init() {
  const std::lock_guard lock(mutex_);
  PgConnection& c = *conn_;
  in_transaction(c, "creating the cluster schema", [&] {
    c.exec("locking the cluster schema", "SELECT pg_advisory_xact_lock($1::bigint)",
           {kInitLockKey});
    c.exec("creating the schema version table",
           "CREATE TABLE IF NOT EXISTS pinfer_schema (version integer NOT NULL)");
    const PgResult r =
        c.exec("reading the schema version", "SELECT max(version) FROM pinfer_schema");
    const int64_t version = r.is_null(0, 0) ? 0 : r.int64(0, 0);
    if (version > kSchemaVersion) {
      throw Unsupported("cluster schema version " + std::to_string(version) + " in the " +
                        c.describe() + " is newer than this build's " +
                        std::to_string(kSchemaVersion));
    }
    if (version == kSchemaVersion) return;
    for (const char* sql : kSchemaV1) c.exec("creating the cluster schema v1", sql);
    c.exec("recording the schema version", "INSERT INTO pinfer_schema (version) VALUES ($1)",
           {std::to_string(kSchemaVersion)});
  });
}

int ClusterState::schema_version() {
  const std::lock_guard lock(mutex_);
  const PgResult exists = conn_->exec("looking for the schema version table",
                                      "SELECT to_regclass('pinfer_schema') IS NOT NULL");
  if (exists.text(0, 0) != "t") return 0;
  const PgResult r =
      conn_->exec("reading the schema version", "SELECT max(version) FROM pinfer_schema");
  return r.is_null(0, 0) ? 0 : static_cast<int>(r.int64(0, 0));
}

NodeLease ClusterState::join(const NodeJoin& node) {
  check_id("node id", node.node_id, 64);
  check_text("node address", node.address, 255);
  check_text("model digest", node.model_digest, 128);
  check_bytes("capacity_bytes", node.capacity_bytes);
  check_bytes("free_bytes", node.free_bytes);
  const std::string protocol = str(protocol::to_string(node.protocol));
  const std::lock_guard lock(mutex_);
  PgConnection& c = *conn_;
  return in_transaction(c, "joining node '" + node.node_id + "'", [&] {
    c.exec("locking the fleet for a join", "SELECT pg_advisory_xact_lock($1::bigint)",
           {kJoinLockKey});
    c.exec("recording the fleet's model",
           "INSERT INTO pinfer_fleet (singleton, model_digest, protocol) VALUES (true, $1, $2) "
           "ON CONFLICT (singleton) DO NOTHING",
           {node.model_digest, protocol});
    const PgResult fleet =
        c.exec("reading the fleet's model", "SELECT model_digest, protocol FROM pinfer_fleet");
    if (fleet.text(0, 0) != node.model_digest) {
      throw InvalidArgument("node '" + node.node_id + "' serves model digest " + node.model_digest +
                            " but the fleet serves " + fleet.text(0, 0) + "; refusing to join");
    }
    if (fleet.text(0, 1) != protocol) {
      throw InvalidArgument("node '" + node.node_id + "' speaks protocol " + protocol +
                            " but the fleet serves " + fleet.text(0, 1) + "; refusing to join");
    }
    const PgResult before =
        c.exec("reading the node", "SELECT state FROM pinfer_nodes WHERE id = $1 FOR UPDATE",
               {node.node_id});
    const PgResult after =
        c.exec("recording the node",
               "INSERT INTO pinfer_nodes (id, address, model_digest, protocol, capacity_bytes, "
               "free_bytes, heartbeat_at, epoch, state) "
               "VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, clock_timestamp(), 1, 'alive') "
               "ON CONFLICT (id) DO UPDATE SET address = EXCLUDED.address, "
               "model_digest = EXCLUDED.model_digest, protocol = EXCLUDED.protocol, "
               "capacity_bytes = EXCLUDED.capacity_bytes, free_bytes = EXCLUDED.free_bytes, "
               "heartbeat_at = EXCLUDED.heartbeat_at, epoch = pinfer_nodes.epoch + 1, "
               "state = CASE WHEN pinfer_nodes.state = 'draining' THEN 'draining' ELSE 'alive' END "
               "RETURNING epoch",
               {node.node_id, node.address, node.model_digest, protocol, num(node.capacity_bytes),
                num(node.free_bytes)});
    const uint64_t epoch = after.uint64(0, 0);
    if (before.rows() > 0 && before.text(0, 0) == "dead") {
      // Whatever it held before it was declared dead is never served again.
      c.exec("marking a returning node's precomputes lost",
             "UPDATE pinfer_precomputes SET state = 'lost', updated_at = clock_timestamp() "
             "WHERE node_id = $1 AND state IN ('stored', 'taken')",
             {node.node_id});
    } else {
      // A restart before anyone declared it dead: its stored precomputes stay usable.
      c.exec("moving a restarted node's precomputes to its new epoch",
             "UPDATE pinfer_precomputes SET epoch = $2::bigint "
             "WHERE node_id = $1 AND state = 'stored'",
             {node.node_id, num(epoch)});
    }
    return NodeLease{node.node_id, epoch};
  });
}

void ClusterState::heartbeat(const NodeLease& lease, uint64_t free_bytes) {
  check_bytes("free_bytes", free_bytes);
  const std::lock_guard lock(mutex_);
  const PgResult r = conn_->exec(
      "recording a heartbeat",
      "UPDATE pinfer_nodes SET heartbeat_at = clock_timestamp(), free_bytes = $3::bigint "
      "WHERE id = $1 AND epoch = $2::bigint AND state <> 'dead' RETURNING id",
      {lease.node_id, num(lease.epoch), num(free_bytes)});
  if (r.rows() == 0) {
    throw ProtocolError("heartbeat of node '" + lease.node_id + "' at epoch " + num(lease.epoch) +
                        " refused: the node was declared dead or rejoined; it must rejoin");
  }
}

std::vector<std::string> ClusterState::mark_dead_nodes(std::chrono::milliseconds dead_after) {
  if (dead_after.count() <= 0) {
    throw InvalidArgument("dead_after_ms " + std::to_string(dead_after.count()) +
                          " must be positive");
  }
  const std::lock_guard lock(mutex_);
  PgConnection& c = *conn_;
  return in_transaction(c, "declaring silent nodes dead", [&] {
    const PgResult r =
        c.exec("declaring silent nodes dead",
               "UPDATE pinfer_nodes SET state = 'dead', epoch = epoch + 1 "
               "WHERE state <> 'dead' AND heartbeat_at < clock_timestamp() - $1::bigint * "
               "interval '1 millisecond' RETURNING id",
               {std::to_string(dead_after.count())});
    std::vector<std::string> dead;
    for (int i = 0; i < r.rows(); ++i) dead.push_back(r.text(i, 0));
    if (!dead.empty()) lose_precomputes_of_dead_nodes(c);
    std::sort(dead.begin(), dead.end());
    return dead;
  });
}

void ClusterState::drain(std::string_view node_id) {
  check_id("node id", node_id, 64);
  const std::lock_guard lock(mutex_);
  const PgResult r = conn_->exec(
      "draining a node",
      "UPDATE pinfer_nodes SET state = 'draining' WHERE id = $1 AND state <> 'dead' RETURNING id",
      {str(node_id)});
  if (r.rows() == 0) {
    throw InvalidArgument("cannot drain node '" + str(node_id) +
                          "': it is not in the cluster or is dead");
  }
}

void ClusterState::add_precompute(const NodeLease& lease, std::string_view precompute_id,
                                  std::string_view client_id) {
  check_id("precompute id", precompute_id);
  check_id("client id", client_id);
  const std::lock_guard lock(mutex_);
  PgConnection& c = *conn_;
  in_transaction(c, "recording a stored precomputation", [&] {
    check_lease_locked(c, lease, "recording precompute " + str(precompute_id));
    const PgResult r =
        c.exec("recording a stored precompute",
               "INSERT INTO pinfer_precomputes (id, client_id, node_id, epoch, state) "
               "VALUES ($1, $2, $3, $4::bigint, 'stored') ON CONFLICT (id) DO NOTHING RETURNING id",
               {str(precompute_id), str(client_id), lease.node_id, num(lease.epoch)});
    if (r.rows() == 0) {
      throw InvalidArgument("precompute " + str(precompute_id) + " is already in the cluster");
    }
  });
}

void ClusterState::take_precompute(const NodeLease& lease, std::string_view precompute_id,
                                   std::string_view client_id) {
  check_id("precompute id", precompute_id);
  if (!client_id.empty()) check_id("client id", client_id);
  const std::optional<std::string> client =
      client_id.empty() ? std::nullopt : std::optional<std::string>(client_id);
  const std::lock_guard lock(mutex_);
  PgConnection& c = *conn_;
  const std::string what = "taking precompute " + str(precompute_id);
  in_transaction(c, what, [&] {
    check_lease_locked(c, lease, what);
    // The conditional UPDATE is the single-use guarantee: of racing takers, the first locks the
    // row; the others wait, re-check `state = 'stored'` on the new version and update nothing.
    const PgResult r =
        c.exec(what,
               "UPDATE pinfer_precomputes SET state = 'taken', updated_at = clock_timestamp() "
               "WHERE id = $1 AND node_id = $2 AND epoch = $3::bigint AND state = 'stored' "
               "AND ($4::text IS NULL OR client_id = $4) RETURNING id",
               {str(precompute_id), lease.node_id, num(lease.epoch), client});
    if (r.rows() == 1) return;
    const PgResult why = c.exec(what,
                                "SELECT node_id, epoch, state, client_id FROM pinfer_precomputes "
                                "WHERE id = $1",
                                {str(precompute_id)});
    if (why.rows() == 0) throw StoreError(what + ": it is not in the cluster");
    if (client && why.text(0, 3) != *client) {
      throw StoreError(what + ": it is not client '" + *client + "''s");
    }
    if (why.text(0, 0) != lease.node_id) {
      throw StoreError(what + ": it is held by node '" + why.text(0, 0) + "', not '" +
                       lease.node_id + "'");
    }
    if (why.text(0, 2) != "stored") throw StoreError(what + ": it is " + why.text(0, 2));
    throw StoreError(what + ": it was stored under epoch " + why.text(0, 1) + ", before node '" +
                     lease.node_id + "' was declared dead");
  });
}

void ClusterState::consume_precompute(const NodeLease& lease, std::string_view precompute_id) {
  check_id("precompute id", precompute_id);
  const std::lock_guard lock(mutex_);
  const std::string what = "consuming precompute " + str(precompute_id);
  const PgResult r = conn_->exec(
      what,
      "UPDATE pinfer_precomputes SET state = 'consumed', updated_at = clock_timestamp() "
      "WHERE id = $1 AND node_id = $2 AND state = 'taken' RETURNING id",
      {str(precompute_id), lease.node_id});
  if (r.rows() == 0) {
    throw StoreError(what + ": it is not taken by node '" + lease.node_id + "'");
  }
}

uint64_t ClusterState::mark_precomputes_lost(std::string_view node_id) {
  check_id("node id", node_id, 64);
  const std::lock_guard lock(mutex_);
  PgConnection& c = *conn_;
  return in_transaction(c, "marking precomputes lost", [&] {
    const PgResult n =
        c.exec("reading the node", "SELECT state FROM pinfer_nodes WHERE id = $1 FOR UPDATE",
               {str(node_id)});
    if (n.rows() == 0 || n.text(0, 0) != "dead") {
      throw InvalidArgument("cannot mark the precomputes of node '" + str(node_id) +
                            "' lost: it is not a dead node of the cluster");
    }
    const PgResult r =
        c.exec("marking precomputes lost",
               "WITH lost AS (UPDATE pinfer_precomputes SET state = 'lost', "
               "updated_at = clock_timestamp() WHERE node_id = $1 AND state IN ('stored', 'taken') "
               "RETURNING 1) SELECT count(*) FROM lost",
               {str(node_id)});
    return r.uint64(0, 0);
  });
}

std::optional<PrecomputeState> ClusterState::precompute_state(std::string_view precompute_id) {
  check_id("precompute id", precompute_id);
  const std::lock_guard lock(mutex_);
  const PgResult r =
      conn_->exec("reading a precompute's state",
                  "SELECT state FROM pinfer_precomputes WHERE id = $1", {str(precompute_id)});
  if (r.rows() == 0) return std::nullopt;
  return parse_precompute_state(r.text(0, 0));
}

std::string ClusterState::register_client(std::string_view client_id,
                                          std::string_view token_sha256_hex,
                                          std::optional<std::string> home_node) {
  check_id("client id", client_id);
  check_sha256_hex(token_sha256_hex);
  if (home_node) check_id("home node", *home_node, 64);
  const std::lock_guard lock(mutex_);
  PgConnection& c = *conn_;
  return in_transaction(c, "registering client '" + str(client_id) + "'", [&] {
    std::string home;
    if (home_node) {
      const PgResult n =
          c.exec("reading the home node", "SELECT state FROM pinfer_nodes WHERE id = $1 FOR SHARE",
                 {*home_node});
      if (n.rows() == 0 || n.text(0, 0) == "dead") {
        throw InvalidArgument("home node '" + *home_node + "' is not a live node of the cluster");
      }
      home = *home_node;
    } else {
      const PgResult n = c.exec("choosing a home node",
                                "SELECT id FROM pinfer_nodes WHERE state = 'alive' "
                                "ORDER BY free_bytes DESC, id LIMIT 1 FOR SHARE");
      if (n.rows() == 0) throw StoreError("no live node in the cluster to home a client on");
      home = n.text(0, 0);
    }
    const PgResult r = c.exec(
        "registering a client",
        "INSERT INTO pinfer_clients (id, token_sha256, home_node) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET token_sha256 = EXCLUDED.token_sha256, "
        "home_node = COALESCE(pinfer_clients.home_node, EXCLUDED.home_node) RETURNING home_node",
        {str(client_id), str(token_sha256_hex), home});
    return r.text(0, 0);
  });
}

std::optional<std::string> ClusterState::home_node(std::string_view client_id) {
  check_id("client id", client_id);
  const std::lock_guard lock(mutex_);
  const PgResult r =
      conn_->exec("reading a client's home node",
                  "SELECT home_node FROM pinfer_clients WHERE id = $1", {str(client_id)});
  if (r.rows() == 0 || r.is_null(0, 0)) return std::nullopt;
  return r.text(0, 0);
}

std::optional<std::string> ClusterState::token_hash(std::string_view client_id) {
  check_id("client id", client_id);
  const std::lock_guard lock(mutex_);
  const PgResult r =
      conn_->exec("reading a client's token hash",
                  "SELECT token_sha256 FROM pinfer_clients WHERE id = $1", {str(client_id)});
  if (r.rows() == 0) return std::nullopt;
  return r.text(0, 0);
}

std::string ClusterState::rehome_client(std::string_view client_id) {
  check_id("client id", client_id);
  const std::lock_guard lock(mutex_);
  PgConnection& c = *conn_;
  return in_transaction(c, "re-homing client '" + str(client_id) + "'", [&] {
    const PgResult cl =
        c.exec("reading the client",
               "SELECT home_node FROM pinfer_clients WHERE id = $1 FOR UPDATE", {str(client_id)});
    if (cl.rows() == 0) {
      throw InvalidArgument("cannot re-home client '" + str(client_id) +
                            "': it is not registered in the cluster");
    }
    const std::optional<std::string> old_home =
        cl.is_null(0, 0) ? std::nullopt : std::optional<std::string>(cl.text(0, 0));
    const PgResult n = c.exec("choosing a new home node",
                              "SELECT id FROM pinfer_nodes WHERE state = 'alive' "
                              "ORDER BY free_bytes DESC, id LIMIT 1 FOR SHARE");
    if (n.rows() == 0) {
      throw StoreError("cannot re-home client '" + str(client_id) +
                       "': no live node in the cluster");
    }
    const std::string home = n.text(0, 0);
    if (old_home && *old_home != home) {
      // Its garbled circuits stay on the old home's disk; the client runs fresh offline phases.
      c.exec("marking the client's old precomputes lost",
             "UPDATE pinfer_precomputes SET state = 'lost', updated_at = clock_timestamp() "
             "WHERE client_id = $1 AND node_id = $2 AND state = 'stored'",
             {str(client_id), *old_home});
    }
    c.exec("recording the new home", "UPDATE pinfer_clients SET home_node = $2 WHERE id = $1",
           {str(client_id), home});
    return home;
  });
}

std::optional<ClusterState::Route> ClusterState::route_client(std::string_view client_id) {
  check_id("client id", client_id);
  {
    const std::lock_guard lock(mutex_);
    const PgResult r = conn_->exec("routing a client",
                                   "SELECT c.home_node, n.address, n.state FROM pinfer_clients c "
                                   "LEFT JOIN pinfer_nodes n ON n.id = c.home_node WHERE c.id = $1",
                                   {str(client_id)});
    if (r.rows() == 0 || r.is_null(0, 0)) return std::nullopt;
    if (r.text(0, 2) != "dead") return Route{r.text(0, 0), r.text(0, 1), false};
  }
  const std::string home = rehome_client(client_id);
  const std::lock_guard lock(mutex_);
  const PgResult n = conn_->exec("reading the new home's address",
                                 "SELECT address FROM pinfer_nodes WHERE id = $1", {home});
  if (n.rows() == 0)
    throw StoreError("re-homed client '" + str(client_id) + "' to a vanished node");
  return Route{home, n.text(0, 0), true};
}

ClusterStatus ClusterState::status() {
  const std::lock_guard lock(mutex_);
  PgConnection& c = *conn_;
  // One snapshot for every table.
  c.exec("reading the cluster status", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    ClusterStatus s;
    const PgResult fleet =
        c.exec("reading the fleet's model", "SELECT model_digest, protocol FROM pinfer_fleet");
    if (fleet.rows() > 0) {
      s.model_digest = fleet.text(0, 0);
      s.protocol = protocol::parse_protocol_kind(fleet.text(0, 1));
    }
    const PgResult nodes = c.exec(
        "reading the nodes",
        "SELECT n.id, n.address, n.model_digest, n.protocol, n.capacity_bytes, n.free_bytes, "
        "GREATEST(0, floor(extract(epoch FROM clock_timestamp() - n.heartbeat_at) * 1000))"
        "::bigint, n.epoch, n.state, "
        "(SELECT count(*) FROM pinfer_precomputes p WHERE p.node_id = n.id AND p.state = "
        "'stored') FROM pinfer_nodes n ORDER BY n.id");
    for (int i = 0; i < nodes.rows(); ++i) {
      NodeInfo n;
      n.node_id = nodes.text(i, 0);
      n.address = nodes.text(i, 1);
      n.model_digest = nodes.text(i, 2);
      n.protocol = protocol::parse_protocol_kind(nodes.text(i, 3));
      n.capacity_bytes = nodes.uint64(i, 4);
      n.free_bytes = nodes.uint64(i, 5);
      n.heartbeat_age_ms = nodes.uint64(i, 6);
      n.epoch = nodes.uint64(i, 7);
      n.state = parse_node_state(nodes.text(i, 8));
      n.stored_precomputes = nodes.uint64(i, 9);
      if (n.state != NodeState::dead) {
        s.capacity_bytes += n.capacity_bytes;
        s.free_bytes += n.free_bytes;
      }
      s.nodes.push_back(std::move(n));
    }
    const PgResult clients =
        c.exec("reading the clients", "SELECT id, home_node FROM pinfer_clients ORDER BY id");
    for (int i = 0; i < clients.rows(); ++i) {
      ClientInfo ci;
      ci.client_id = clients.text(i, 0);
      if (!clients.is_null(i, 1)) ci.home_node = clients.text(i, 1);
      s.clients.push_back(std::move(ci));
    }
    const PgResult counts = c.exec("counting precomputes",
                                   "SELECT state, count(*) FROM pinfer_precomputes GROUP BY state");
    for (int i = 0; i < counts.rows(); ++i) {
      const uint64_t count = counts.uint64(i, 1);
      switch (parse_precompute_state(counts.text(i, 0))) {
        case PrecomputeState::stored:
          s.precomputes.stored = count;
          break;
        case PrecomputeState::taken:
          s.precomputes.taken = count;
          break;
        case PrecomputeState::consumed:
          s.precomputes.consumed = count;
          break;
        case PrecomputeState::lost:
          s.precomputes.lost = count;
          break;
      }
    }
    c.exec("reading the cluster status", "COMMIT");
    return s;
  } catch (...) {
    try {
      c.exec("reading the cluster status", "ROLLBACK");
    } catch (...) {  // NOLINT: the first error is the one to report
    }
    throw;
  }
}

}  // namespace pinfer::cluster
