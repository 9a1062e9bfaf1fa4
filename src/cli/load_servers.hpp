#pragma once
// The servers of `pinfer bench load`: `pinfer serve` children on ephemeral loopback ports, either
// one server or the nodes of a fleet on a PostgreSQL database (`--cluster URL --nodes N`,
// docs/DEPLOYMENT.md). Over TLS 1.3 every node serves one certificate made for the run, which
// the clients pin (so a redirect to another node passes the same check); with `insecure`, plain
// TCP.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "self_process.hpp"

namespace pinfer::cli {

struct LoadServersOptions {
  // The `pinfer serve` flags every node shares (model, protocol, limits), without --store,
  // --port, transport or cluster flags.
  std::vector<std::string> serve_args;
  std::size_t nodes = 1;
  std::string cluster_url;  // "": one server, not a fleet (then nodes must be 1)
  bool insecure = false;
  std::filesystem::path work;  // node i's store is work/node<i>, its log work/node<i>.log
};

class LoadServers {
 public:
  // Makes the certificate, initialises the cluster schema (idempotent), starts the nodes one
  // after the other and waits for each to serve. Throws InvalidArgument for nodes > 1 without a
  // cluster, IoError (naming the log) when a node does not start.
  explicit LoadServers(const LoadServersOptions& options);

  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] const std::string& endpoint(std::size_t node) const { return endpoints_.at(node); }
  // The certificate's SHA-256 fingerprint (hex) the clients pin; "" over plain TCP.
  [[nodiscard]] const std::string& pin() const noexcept { return pin_; }
  [[nodiscard]] uint64_t peak_rss_bytes(std::size_t node) const;

  struct Stopped {
    int status = -1;
    std::string summary;  // the server's "stopped: ..." line
  };
  // SIGTERM to every node (they finish their sessions), then each one's exit.
  [[nodiscard]] std::vector<Stopped> stop();

 private:
  std::vector<std::unique_ptr<SelfProcess>> nodes_;
  std::vector<std::string> endpoints_;
  std::vector<std::filesystem::path> logs_;
  std::string pin_;
};

// The node ids of `pinfer bench load --cluster`: bench-load-0, bench-load-1, ...
[[nodiscard]] std::string load_node_id(std::size_t node);

}  // namespace pinfer::cli
