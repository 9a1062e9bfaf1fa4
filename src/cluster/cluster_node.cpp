#include "pinfer/cluster/cluster_node.hpp"

#include "pinfer/core/error.hpp"

namespace pinfer::cluster {

ClusterNode::ClusterNode(const std::string& url, NodeJoin join, ClusterNodeOptions options)
    : join_(std::move(join)), options_(std::move(options)) {
  if (options_.heartbeat_interval.count() <= 0 ||
      options_.dead_after <= options_.heartbeat_interval) {
    throw InvalidArgument("dead_after_ms " + std::to_string(options_.dead_after.count()) +
                          " must exceed heartbeat_ms " +
                          std::to_string(options_.heartbeat_interval.count()) + " (and both > 0)");
  }
  beat_ = std::make_unique<ClusterState>(url, options_.connection);
  if (beat_->schema_version() != ClusterState::kSchemaVersion) {
    throw InvalidArgument("the " + beat_->describe() + " holds cluster schema version " +
                          std::to_string(beat_->schema_version()) + ", not " +
                          std::to_string(ClusterState::kSchemaVersion) +
                          "; create it with `pinfer cluster init`");
  }
  ledger_ = std::make_unique<ClusterState>(url, options_.connection);
  lease_ = beat_->join(join_);
  thread_ = std::thread([this] { heartbeat_loop(); });
}

ClusterNode::~ClusterNode() {
  {
    const std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

NodeLease ClusterNode::lease() const {
  const std::lock_guard lock(lease_mutex_);
  return lease_;
}

void ClusterNode::log(const std::string& message) const {
  if (options_.log) options_.log(message);
}

void ClusterNode::heartbeat_loop() {
  bool database_down = false;
  std::unique_lock stop_lock(stop_mutex_);
  while (!stop_cv_.wait_for(stop_lock, options_.heartbeat_interval, [this] { return stopping_; })) {
    stop_lock.unlock();
    try {
      const uint64_t free_bytes = options_.free_bytes ? options_.free_bytes() : join_.free_bytes;
      try {
        beat_->heartbeat(lease(), free_bytes);
      } catch (const ProtocolError&) {
        // Declared dead while alive (a pause, a partition): rejoin under a new epoch. What this
        // node held is lost in the cluster, so none of it will be served.
        join_.free_bytes = free_bytes;
        const NodeLease fresh = beat_->join(join_);
        {
          const std::lock_guard lock(lease_mutex_);
          lease_ = fresh;
        }
        ++rejoins_;
        log("node " + fresh.node_id + " was declared dead; rejoined at epoch " +
            std::to_string(fresh.epoch) + " (its earlier precomputes are lost)");
      }
      for (const std::string& id : beat_->mark_dead_nodes(options_.dead_after)) {
        log("declared node " + id + " dead (silent for more than " +
            std::to_string(options_.dead_after.count()) + " ms)");
      }
      if (database_down) log("cluster database reachable again");
      database_down = false;
    } catch (const Error& e) {
      if (!database_down) log(std::string("heartbeat failed: ") + e.what());
      database_down = true;
    }
    stop_lock.lock();
  }
}

void ClusterNode::stored(std::string_view client, std::string_view id) {
  ledger_->add_precompute(lease(), id, client);
}

void ClusterNode::take(std::string_view client, std::string_view id) {
  ledger_->take_precompute(lease(), id, client);
}

void ClusterNode::consumed(std::string_view client, std::string_view id) noexcept {
  try {
    ledger_->consume_precompute(lease(), id);
  } catch (const std::exception& e) {
    try {
      log(std::string("could not record precompute ") + std::string(id) +
          " as consumed: " + e.what());
    } catch (...) {  // NOLINT: a failing log must not escape a noexcept function
    }
  }
}

void ClusterNode::client_registered(std::string_view client, std::string_view token_sha256_hex) {
  (void)ledger_->register_client(client, token_sha256_hex, join_.node_id);
}

bool ClusterNode::authenticate(std::string_view client, std::string_view token_sha256_hex) {
  const std::optional<std::string> stored = ledger_->token_hash(client);
  if (!stored || stored->size() != token_sha256_hex.size()) return false;
  // Constant time over the (public-length) hashes.
  unsigned char diff = 0;
  for (std::size_t i = 0; i < stored->size(); ++i) {
    diff |= static_cast<unsigned char>((*stored)[i] ^ token_sha256_hex[i]);
  }
  return diff == 0;
}

std::optional<std::string> ClusterNode::redirect_for(std::string_view client) {
  const std::optional<ClusterState::Route> route = ledger_->route_client(client);
  if (!route) return std::nullopt;
  if (route->rehomed) {
    log("client " + std::string(client) + " re-homed on node " + route->node_id +
        " (its home was dead)");
  }
  if (route->node_id == join_.node_id) return std::nullopt;
  return route->address;
}

}  // namespace pinfer::cluster
