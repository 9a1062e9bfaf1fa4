// `pinfer cluster init|status|drain`: the operator's view of a fleet's database
// (docs/DEPLOYMENT.md). The URL comes from --db or $PINFER_CLUSTER_DB, so a password need not
// appear on a command line other users can read in the process list.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "command_registry.hpp"
#include "pinfer/cluster/cluster_state.hpp"
#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::cli {
namespace {

struct Options {
  std::string db;
  std::string node;
  uint64_t dead_after_ms = 0;
};

void add_db_option(CLI::App* cmd, Options* opt) {
  cmd->add_option("--db", opt->db,
                  "Cluster database: postgresql://[user@]host[:port]/dbname or libpq key=value "
                  "pairs (or $PINFER_CLUSTER_DB)")
      ->envname("PINFER_CLUSTER_DB")
      ->required();
}

// A database that was never initialised gets a pointer to `cluster init`, not an SQL error.
std::unique_ptr<cluster::ClusterState> open_initialised(const std::string& db) {
  auto state = std::make_unique<cluster::ClusterState>(db);
  const int version = state->schema_version();
  if (version == 0) {
    throw InvalidArgument("the " + state->describe() +
                          " holds no pinfer cluster schema; create it with `pinfer cluster init`");
  }
  if (version != cluster::ClusterState::kSchemaVersion) {
    throw Unsupported("the " + state->describe() + " holds cluster schema version " +
                      std::to_string(version) + "; this build knows version " +
                      std::to_string(cluster::ClusterState::kSchemaVersion));
  }
  return state;
}

void print_status(const cluster::ClusterStatus& s) {
  fmt::print("fleet: model {} protocol {}\n", s.model_digest.value_or("(no node joined yet)"),
             s.protocol ? std::string(protocol::to_string(*s.protocol)) : std::string("-"));
  fmt::print("\nnodes: {}\n", s.nodes.size());
  fmt::print("{:<20} {:<24} {:<9} {:>6} {:>14} {:>12} {:>12} {:>7}\n", "node", "address", "state",
             "epoch", "heartbeat_ago", "capacity", "free", "stored");
  for (const cluster::NodeInfo& n : s.nodes) {
    fmt::print("{:<20} {:<24} {:<9} {:>6} {:>12}ms {:>12} {:>12} {:>7}\n", n.node_id, n.address,
               cluster::to_string(n.state), n.epoch, n.heartbeat_age_ms,
               format_byte_size(static_cast<double>(n.capacity_bytes)),
               format_byte_size(static_cast<double>(n.free_bytes)), n.stored_precomputes);
  }
  fmt::print("\nclients: {}\n", s.clients.size());
  fmt::print("{:<40} {:<20}\n", "client", "home");
  for (const cluster::ClientInfo& c : s.clients) {
    fmt::print("{:<40} {:<20}\n", c.client_id, c.home_node.value_or("-"));
  }
  fmt::print("\nprecomputes: stored {} taken {} consumed {} lost {}\n", s.precomputes.stored,
             s.precomputes.taken, s.precomputes.consumed, s.precomputes.lost);
  fmt::print("free space: {} of {} (nodes not dead)\n",
             format_byte_size(static_cast<double>(s.free_bytes)),
             format_byte_size(static_cast<double>(s.capacity_bytes)));
}

void setup(CLI::App& app) {
  CLI::App* cmd =
      app.add_subcommand("cluster", "Operate a fleet's database: init, status, drain a node");
  cmd->require_subcommand(1);
  auto opt = std::make_shared<Options>();

  CLI::App* init = cmd->add_subcommand("init", "Create the cluster schema (idempotent)");
  add_db_option(init, opt.get());
  init->callback([opt] {
    cluster::ClusterState state(opt->db);
    state.init();
    fmt::print("cluster schema version {} ready in the {}\n", state.schema_version(),
               state.describe());
  });

  CLI::App* status =
      cmd->add_subcommand("status", "Print the nodes, clients, precomputes and free space");
  add_db_option(status, opt.get());
  status->add_option("--dead-after-ms", opt->dead_after_ms,
                     "First declare nodes silent this long dead (0: only report)");
  status->callback([opt] {
    auto state = open_initialised(opt->db);
    if (opt->dead_after_ms > 0) {
      for (const std::string& id :
           state->mark_dead_nodes(std::chrono::milliseconds(opt->dead_after_ms))) {
        fmt::print("declared node {} dead\n", id);
      }
    }
    print_status(state->status());
  });

  CLI::App* drain = cmd->add_subcommand(
      "drain", "Stop placing new clients on NODE (it keeps serving the clients it has)");
  drain->add_option("node", opt->node, "Node id")->required();
  add_db_option(drain, opt.get());
  drain->callback([opt] {
    auto state = open_initialised(opt->db);
    state->drain(opt->node);
    fmt::print("node {} is draining\n", opt->node);
  });
}

const CommandRegistration kRegistration("", "cluster", &setup);

}  // namespace
}  // namespace pinfer::cli
