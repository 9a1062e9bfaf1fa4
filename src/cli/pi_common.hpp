#pragma once
// Shared pieces of the private-inference commands (serve, precompute, infer, demo).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "pinfer/core/secret_buffer.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/admission.hpp"
#include "pinfer/protocol/cost_report.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_result.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/service/background_service.hpp"
#include "pinfer/service/inference_service.hpp"
#include "pinfer/store/precompute_store.hpp"
#include "pinfer/transport/tcp_channel.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace pinfer::cli {

struct LinkOptions {
  double uplink_mbps = 0;
  double downlink_mbps = 0;
  uint64_t timeout_ms = 300'000;
};
// Adds --uplink-mbps / --downlink-mbps / --timeout-ms.
void add_link_options(CLI::App& cmd, LinkOptions& link);

// --gc-scheme half-gates|three-halves (servers; default protocol::kDefaultGcScheme) and
// --threads T (default 0: all cores).
void add_gc_scheme_option(CLI::App& cmd, std::string& scheme);
void add_threads_option(CLI::App& cmd, unsigned& threads);
// The server options of --gc-scheme and --threads. Throws InvalidArgument on an unknown scheme.
[[nodiscard]] protocol::ServerOptions server_options(const std::string& scheme, unsigned threads);
// --weight-cache SIZE (servers): the HE-encoded weights kept in memory. Empty `size` keeps the
// default; InvalidArgument naming the flag on a malformed size.
void add_weight_cache_option(CLI::App& cmd, std::string& size);
void apply_weight_cache(protocol::ServerOptions& options, const std::string& size);

// Opens a precompute store; `capacity` like "16GB" (decimal) or "4GiB".
[[nodiscard]] std::unique_ptr<store::PrecomputeStore> open_store(
    const std::filesystem::path& dir, const std::string& capacity,
    const std::string& per_client = "");

// The client's identity at its server: <store>/CREDENTIALS, written by `pinfer client register`.
[[nodiscard]] std::filesystem::path credentials_path(const std::filesystem::path& store_dir);

// A shared registration secret from a file (trailing newline and spaces dropped). Throws
// IoError if unreadable, InvalidArgument if empty or above 1024 bytes.
[[nodiscard]] SecretBuffer<std::byte> read_secret_file(const std::filesystem::path& path);

// How a client checks the server: --ca FILE, --pin SHA256 or --insecure (plain TCP, loopback
// only). Exactly one is required.
struct ClientSecurityOptions {
  std::string ca;
  std::string pin;
  bool insecure = false;
};
void add_client_security_options(CLI::App& cmd, ClientSecurityOptions& security);

// Connects to "host:port" with the client side of the link shaping, over TLS 1.3 verified as
// `security` says (or plain TCP with --insecure on loopback). Throws InvalidArgument for a
// missing or contradictory choice, IoError if the server cannot be reached or verified.
[[nodiscard]] std::unique_ptr<transport::TcpChannel> connect_client(
    const std::string& endpoint, const LinkOptions& link, const ClientSecurityOptions& security);

// Options every client command shares (precompute, infer).
struct ClientCommandOptions {
  std::string server;
  std::string store;
  std::string capacity = "16GB";
  std::string protocol;
  std::string report;
  bool json = false;
  LinkOptions link;
  ClientSecurityOptions security;
  unsigned threads = 0;
  // Told the home node's address when a fleet node redirects the session (followed once);
  // null: told on stderr.
  std::function<void(const std::string& home)> on_redirect;
};
void add_client_options(CLI::App& cmd, ClientCommandOptions& opt);

// A connected client: its store, its channel and the session on it (authenticated with the
// store's CREDENTIALS, handshake done). Throws IoError telling the user to run `pinfer client
// register` when the store has no credentials.
struct ClientSession {
  std::unique_ptr<store::PrecomputeStore> store;
  std::unique_ptr<transport::TcpChannel> channel;
  std::unique_ptr<protocol::InferenceClient> client;
};
[[nodiscard]] ClientSession open_client_session(const ClientCommandOptions& opt,
                                                const protocol::AdmissionOptions& admission = {});
// The same, waiting in the server's admission queue (its place told on stderr) and retried while
// the queue is full (protocol::retry_while_busy: after the server's retry-after hint, bounded),
// each refusal told on stderr.
[[nodiscard]] ClientSession open_admitted_session(const ClientCommandOptions& opt);

// A progress bar on stderr when it is a terminal (nothing otherwise).
[[nodiscard]] protocol::ProgressFn terminal_progress();

// An InferenceServer for `model` served on an ephemeral loopback port from a background thread
// (demo, characterize), with its client registry in the store directory. By default over TLS
// 1.3 with an ephemeral self-signed certificate that connect() pins; `insecure`: plain TCP.
// Destruction stops the service and joins the thread on every path.
class LoopbackServer {
 public:
  LoopbackServer(const nn::LoweredModel& model, protocol::ProtocolKind kind,
                 store::PrecomputeStore& store, const LinkOptions& link, std::string log_prefix,
                 bool insecure, std::size_t max_sessions = service::ServiceOptions{}.max_sessions,
                 protocol::ServerOptions server_options = {});
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  [[nodiscard]] std::string endpoint() const;
  // A client connection to this server, secured like the server.
  [[nodiscard]] std::unique_ptr<transport::TcpChannel> connect(const LinkOptions& link) const;
  // The same through a relay listening on 127.0.0.1:relay_port (transport::LinkRelay) that forwards
  // to this server.
  [[nodiscard]] std::unique_ptr<transport::TcpChannel> connect_via(uint16_t relay_port,
                                                                   const LinkOptions& link) const;
  // Registers a new client over the network (as `pinfer client register` does).
  [[nodiscard]] protocol::ClientCredentials register_client(const LinkOptions& link) const;

 private:
  service::BackgroundService service_;  // stops and joins its thread on destruction
  ClientSecurityOptions client_security_;
};

// Prints the report table and writes JSON to `path` when not empty.
void emit_report(const protocol::CostReport& report, const std::string& path, bool json);
// As above, the cost table or the result's JSON (its output beside its cost).
void emit_report(const protocol::InferenceResult& result, const std::string& path, bool json);

}  // namespace pinfer::cli
