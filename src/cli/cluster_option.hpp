#pragma once
// `pinfer serve --cluster URL --node-id ID [--advertise HOST:PORT] [--heartbeat-ms]
// [--dead-after-ms]`: the options that make a server a node of a fleet (docs/DEPLOYMENT.md),
// and the node they start.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "pinfer/cluster/cluster_node.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/protocol_kind.hpp"
#include "pinfer/store/precompute_store.hpp"

namespace pinfer::cli {

struct ClusterNodeFlags {
  std::string url;
  std::string node_id;
  std::string advertise;
  uint64_t heartbeat_ms = 1000;
  uint64_t dead_after_ms = 10000;
};

void add_cluster_node_options(CLI::App& cmd, ClusterNodeFlags& flags);

// SHA-256 (hex) of the model's architecture and every weight and bias: nodes of one fleet must
// serve the very same model, or clients would get different answers from different nodes.
[[nodiscard]] std::string model_digest(const nn::LoweredModel& model);

// The address the node advertises to the fleet, given the host it listens on and the port it
// was bound to: --advertise as given, its port 0 replaced by the bound port; without
// --advertise, HOST:PORT of the listener. Throws as check_cluster_node_flags.
[[nodiscard]] std::string advertised_address(const ClusterNodeFlags& flags,
                                             const std::string& listen_host, uint16_t bound_port);

// Validates the flags before anything is loaded or bound (InvalidArgument): the timings, the
// --advertise address, and a --host clients can reach when there is no --advertise.
void check_cluster_node_flags(const ClusterNodeFlags& flags, const std::string& listen_host);

// Joins the fleet when --cluster was given (nullptr otherwise), advertising
// advertised_address(flags, listen_host, bound_port); the store's free bytes go with every
// heartbeat. Throws what cluster::ClusterNode throws.
[[nodiscard]] std::shared_ptr<cluster::ClusterNode> start_cluster_node(
    const ClusterNodeFlags& flags, const std::string& listen_host, uint16_t bound_port,
    const nn::LoweredModel& model, protocol::ProtocolKind kind, store::PrecomputeStore& store,
    uint64_t capacity_bytes);

}  // namespace pinfer::cli
