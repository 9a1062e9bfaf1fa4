#pragma once
// Shared pieces of the private-inference commands (serve, precompute, infer, demo).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "pinfer/net/inference_service.hpp"
#include "pinfer/net/tcp_channel.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/cost_report.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/protocol/precompute_store.hpp"

namespace pinfer::cli {

struct LinkOptions {
  double uplink_mbps = 0;
  double downlink_mbps = 0;
  uint64_t timeout_ms = 300'000;
};
// Adds --uplink-mbps / --downlink-mbps / --timeout-ms.
void add_link_options(CLI::App& cmd, LinkOptions& link);

// Opens a precompute store; `capacity` like "16GB" (decimal) or "4GiB".
[[nodiscard]] std::unique_ptr<protocol::PrecomputeStore> open_store(
    const std::filesystem::path& dir, const std::string& capacity,
    const std::string& per_client = "");

// The client's identity at servers, kept in <store>/CLIENT_ID (created on first use).
[[nodiscard]] std::string client_id_for(const std::filesystem::path& store_dir,
                                        const std::string& explicit_id);

// Connects to "host:port" with the client side of the link shaping.
[[nodiscard]] std::unique_ptr<net::TcpChannel> connect_client(const std::string& endpoint,
                                                              const LinkOptions& link);

// Options every client command shares (precompute, infer).
struct ClientCommandOptions {
  std::string server;
  std::string store;
  std::string capacity = "16GB";
  std::string client_id;
  std::string protocol;
  std::string report;
  bool json = false;
  LinkOptions link;
};
void add_client_options(CLI::App& cmd, ClientCommandOptions& opt);

// A connected client: its store, its channel and the session on it (handshake done).
struct ClientSession {
  std::unique_ptr<protocol::PrecomputeStore> store;
  std::unique_ptr<net::TcpChannel> channel;
  std::unique_ptr<protocol::InferenceClient> client;
};
[[nodiscard]] ClientSession open_client_session(const ClientCommandOptions& opt);

// A progress bar on stderr when it is a terminal (nothing otherwise).
[[nodiscard]] protocol::ProgressFn terminal_progress();

// An InferenceServer for `model` served on an ephemeral loopback port from a background thread
// (demo, characterize). Destruction stops the service and joins the thread on every path.
class LoopbackServer {
 public:
  LoopbackServer(const nn::LoweredModel& model, protocol::ProtocolKind kind,
                 protocol::PrecomputeStore& store, const LinkOptions& link, std::string log_prefix);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  [[nodiscard]] std::string endpoint() const;

 private:
  protocol::InferenceServer server_;
  net::InferenceService service_;
  std::thread thread_;
};

// Prints the report table and writes JSON to `path` when not empty.
void emit_report(const protocol::CostReport& report, const std::string& path, bool json);

}  // namespace pinfer::cli
