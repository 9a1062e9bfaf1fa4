#include "load_servers.hpp"

#include <signal.h>

#include "pinfer/cluster/cluster_state.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/hex.hpp"
#include "pinfer/transport/tls_certificate.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace pinfer::cli {

std::string load_node_id(std::size_t node) {
  return "bench-load-" + std::to_string(node);
}

LoadServers::LoadServers(const LoadServersOptions& options) {
  if (options.nodes == 0) throw InvalidArgument("--nodes must be at least 1");
  if (options.nodes > 1 && options.cluster_url.empty()) {
    throw InvalidArgument("--nodes " + std::to_string(options.nodes) +
                          " needs --cluster URL: several servers share their state in a fleet's "
                          "database (docs/DEPLOYMENT.md)");
  }
  std::vector<std::string> transport_args = {"--insecure"};
  if (!options.insecure) {
    // One certificate for the whole fleet: a client pins one fingerprint and a redirect to
    // another node passes the same check.
    std::filesystem::create_directories(options.work / "tls");
    const transport::ServerCertificateFiles files =
        transport::ensure_server_certificate(options.work / "tls", {"127.0.0.1"});
    pin_ = to_hex(transport::TlsServerContext::from_pem_files(files.cert_file, files.key_file)
                      ->fingerprint());
    transport_args = {"--cert", files.cert_file.string(), "--key", files.key_file.string()};
  }
  if (!options.cluster_url.empty()) cluster::ClusterState(options.cluster_url).init();
  for (std::size_t i = 0; i < options.nodes; ++i) {
    const std::string name = "node" + std::to_string(i);
    std::vector<std::string> args = {"pinfer", "serve"};
    args.insert(args.end(), options.serve_args.begin(), options.serve_args.end());
    args.insert(args.end(), {"--store", (options.work / name).string(), "--port", "0"});
    args.insert(args.end(), transport_args.begin(), transport_args.end());
    if (!options.cluster_url.empty()) {
      args.insert(args.end(), {"--cluster", options.cluster_url, "--node-id", load_node_id(i),
                               "--advertise", "127.0.0.1:0"});
    }
    logs_.push_back(options.work / (name + ".log"));
    nodes_.push_back(std::make_unique<SelfProcess>(args, logs_.back()));
    std::string endpoint;
    for (std::string l = nodes_.back()->line(); !l.empty(); l = nodes_.back()->line()) {
      if (const auto at = l.find(" on 127.0.0.1:"); at != std::string::npos) {
        endpoint = "127.0.0.1:" + std::to_string(std::stoul(l.substr(at + 14)));
        break;
      }
    }
    if (endpoint.empty()) throw IoError("pinfer serve did not start; see " + logs_.back().string());
    endpoints_.push_back(endpoint);
  }
}

uint64_t LoadServers::peak_rss_bytes(std::size_t node) const {
  return cli::peak_rss_bytes(nodes_.at(node)->pid());
}

std::vector<LoadServers::Stopped> LoadServers::stop() {
  for (const auto& n : nodes_) ::kill(n->pid(), SIGTERM);
  std::vector<Stopped> out(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    for (std::string l = nodes_[i]->line(); !l.empty(); l = nodes_[i]->line()) {
      if (l.starts_with("stopped:")) out[i].summary = l.substr(0, l.size() - 1);
    }
    out[i].status = nodes_[i]->wait();
  }
  return out;
}

}  // namespace pinfer::cli
