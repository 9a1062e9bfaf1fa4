#include "cluster_option.hpp"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "pinfer/core/error.hpp"
#include "pinfer/protocol/architecture.hpp"
#include "pinfer/transport/endpoint.hpp"

namespace pinfer::cli {

void add_cluster_node_options(CLI::App& cmd, ClusterNodeFlags& flags) {
  // No environment fallback here: an operator's $PINFER_CLUSTER_DB (for `pinfer cluster`) must
  // not turn every `pinfer serve` into a node. Passwords belong in ~/.pgpass or $PGPASSWORD.
  auto* url = cmd.add_option("--cluster", flags.url,
                             "Join the fleet whose database is at this PostgreSQL URL "
                             "(password from ~/.pgpass or $PGPASSWORD); docs/DEPLOYMENT.md");
  auto* id = cmd.add_option("--node-id", flags.node_id, "This node's id in the fleet")->needs(url);
  cmd.add_option("--advertise", flags.advertise,
                 "HOST:PORT clients of the fleet reach this node at; port 0: the port it listens "
                 "on (default: --host and that port)")
      ->needs(url);
  url->needs(id);
  cmd.add_option("--heartbeat-ms", flags.heartbeat_ms, "Heartbeat interval of the node")
      ->check(CLI::Range(uint64_t{10}, uint64_t{600'000}))
      ->needs(url);
  cmd.add_option("--dead-after-ms", flags.dead_after_ms,
                 "Declare nodes silent this long dead (more than --heartbeat-ms)")
      ->check(CLI::Range(uint64_t{20}, uint64_t{86'400'000}))
      ->needs(url);
}

std::string model_digest(const nn::LoweredModel& model) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  PINFER_ASSERT(ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  const std::vector<std::byte> arch = protocol::encode_architecture(model);
  PINFER_ASSERT(EVP_DigestUpdate(ctx.get(), arch.data(), arch.size()) == 1);
  for (const nn::LinearOp& op : model.linear_ops) {
    for (const RingTensor* t : {&op.weight, &op.bias}) {
      const auto& v = t->values();
      PINFER_ASSERT(EVP_DigestUpdate(ctx.get(), v.data(), v.size() * sizeof(v[0])) == 1);
    }
  }
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  PINFER_ASSERT(EVP_DigestFinal_ex(ctx.get(), md.data(), &len) == 1 && len == md.size());
  std::string hex;
  for (unsigned char b : md) hex += fmt::format("{:02x}", b);
  return hex;
}

namespace {

bool is_wildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::";
}

}  // namespace

std::string advertised_address(const ClusterNodeFlags& flags, const std::string& listen_host,
                               uint16_t bound_port) {
  check_cluster_node_flags(flags, listen_host);
  transport::Endpoint ep = flags.advertise.empty() ? transport::Endpoint{listen_host, 0}
                                                   : transport::parse_endpoint(flags.advertise);
  if (ep.port == 0) ep.port = bound_port;
  return transport::to_string(ep);
}

void check_cluster_node_flags(const ClusterNodeFlags& flags, const std::string& listen_host) {
  if (flags.url.empty()) return;
  if (flags.dead_after_ms <= flags.heartbeat_ms) {
    throw InvalidArgument("--dead-after-ms " + std::to_string(flags.dead_after_ms) +
                          " must exceed --heartbeat-ms " + std::to_string(flags.heartbeat_ms));
  }
  if (flags.advertise.empty()) {
    if (is_wildcard(listen_host)) {
      throw InvalidArgument("--host '" + listen_host +
                            "' is every interface, which no client can connect to: give "
                            "--advertise HOST:PORT (port 0: the port this node listens on)");
    }
  } else {
    (void)transport::parse_endpoint(flags.advertise);  // malformed: named before the model loads
  }
}

std::shared_ptr<cluster::ClusterNode> start_cluster_node(
    const ClusterNodeFlags& flags, const std::string& listen_host, uint16_t bound_port,
    const nn::LoweredModel& model, protocol::ProtocolKind kind, store::PrecomputeStore& store,
    uint64_t capacity_bytes) {
  if (flags.url.empty()) return nullptr;
  auto free_bytes = [&store, capacity_bytes] {
    const uint64_t used = store.used_bytes();
    return used >= capacity_bytes ? uint64_t{0} : capacity_bytes - used;
  };
  cluster::NodeJoin join;
  join.node_id = flags.node_id;
  join.address = advertised_address(flags, listen_host, bound_port);
  join.model_digest = model_digest(model);
  join.protocol = kind;
  join.capacity_bytes = capacity_bytes;
  join.free_bytes = free_bytes();
  cluster::ClusterNodeOptions options;
  options.heartbeat_interval = std::chrono::milliseconds(flags.heartbeat_ms);
  options.dead_after = std::chrono::milliseconds(flags.dead_after_ms);
  options.free_bytes = free_bytes;
  options.log = [](std::string_view m) { fmt::print(stderr, "pinfer serve: cluster: {}\n", m); };
  auto node = std::make_shared<cluster::ClusterNode>(flags.url, join, options);
  fmt::print(stderr, "joined the fleet as node {} at {} (epoch {}, model digest {})\n",
             join.node_id, join.address, node->lease().epoch, join.model_digest);
  return node;
}

}  // namespace pinfer::cli
