// `pinfer serve`: the private-inference server.
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <thread>

#include "calibration_option.hpp"
#include "cluster_option.hpp"
#include "command_registry.hpp"
#include "pi_common.hpp"
#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/service/inference_service.hpp"
#include "pinfer/transport/endpoint.hpp"
#include "pinfer/transport/tls_certificate.hpp"
#include "pinfer/transport/tls_context.hpp"
#include "reveal_option.hpp"

namespace pinfer::cli {
namespace {

struct Options {
  std::string model;
  std::string protocol = "client-garbler";
  std::string store;
  std::string capacity;
  std::string client_quota;
  std::string host = "127.0.0.1";
  uint16_t port = 7878;
  std::size_t max_sessions = 16;
  std::size_t queue = service::ServiceOptions{}.max_queued;
  uint64_t queue_timeout_ms = service::ServiceOptions{}.queue_timeout_ms;
  std::string cert;
  std::string key;
  bool insecure = false;
  std::string registration = "open";
  std::string registration_secret_file;
  std::string reveal = "label";
  std::string calibration;
  std::string gc_scheme;
  unsigned threads = 0;
  std::string weight_cache;
  LinkOptions link;
  ClusterNodeFlags cluster;
};

// Set by SIGINT / SIGTERM. A handler may only touch lock-free atomics, so a watcher thread
// turns the flag into service.stop() (which takes locks).
std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int) {
  g_stop_requested.store(true);
}

void setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve private inference of a model");
  cmd->add_option("--model", opt->model, "Model: path.onnx or a built-in name (resnet18:cifar10)")
      ->required();
  cmd->add_option("--protocol", opt->protocol, "server-garbler or client-garbler");
  cmd->add_option("--store", opt->store, "Directory of the server's precompute store")->required();
  add_reveal_option(*cmd, opt->reveal);
  add_calibration_option(*cmd, opt->calibration);
  cmd->add_option("--capacity", opt->capacity, "Store capacity, e.g. 100GB")->required();
  cmd->add_option("--client-quota", opt->client_quota, "Per-client share of the store, e.g. 20GB");
  cmd->add_option("--host", opt->host, "Address to listen on");
  cmd->add_option("--port", opt->port, "TCP port (0: any free port, printed)");
  cmd->add_option("--max-sessions", opt->max_sessions,
                  "Concurrent sessions; more wait in the admission queue")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--queue", opt->queue,
                  "Connections that may wait for a session, told their place (default 64); "
                  "beyond, 'server busy' with a retry-after hint (0: no queue)")
      ->check(CLI::Range(0, 65536));
  cmd->add_option("--queue-timeout-ms", opt->queue_timeout_ms,
                  "Refuse a connection that waited this long for a session (default 120000)")
      ->check(CLI::Range(1, 86'400'000));
  auto* cert = cmd->add_option("--cert", opt->cert,
                               "TLS certificate (PEM; default: one generated in the store)");
  auto* key = cmd->add_option("--key", opt->key, "TLS private key (PEM) of --cert");
  cert->needs(key);
  key->needs(cert);
  cmd->add_flag("--insecure", opt->insecure, "Plain TCP without TLS (loopback --host only)")
      ->excludes(cert)
      ->excludes(key);
  auto* reg = cmd->add_option("--registration", opt->registration,
                              "Who may run `pinfer client register`: open (default) or closed")
                  ->check(CLI::IsMember({"open", "closed"}));
  cmd->add_option("--registration-secret-file", opt->registration_secret_file,
                  "Registration requires the secret in this file (clients pass the same file)")
      ->excludes(reg);
  add_gc_scheme_option(*cmd, opt->gc_scheme);
  add_threads_option(*cmd, opt->threads);
  add_weight_cache_option(*cmd, opt->weight_cache);
  add_link_options(*cmd, opt->link);
  add_cluster_node_options(*cmd, opt->cluster);
  cmd->callback([opt] {
    const protocol::ProtocolKind kind = protocol::parse_protocol_kind(opt->protocol);
    // Checked again by the library (ServiceOptions); here first, before the model loads.
    if (opt->insecure)
      transport::require_loopback_for_plaintext(transport::Endpoint{opt->host, opt->port});
    check_cluster_node_flags(opt->cluster, opt->host);
    auto store = open_store(opt->store, opt->capacity, opt->client_quota);
    protocol::ClientRegistry registry(store->root() / "CLIENTS",
                                      opt->registration == "closed"
                                          ? protocol::RegistrationPolicy::closed
                                          : protocol::RegistrationPolicy::open);
    if (!opt->registration_secret_file.empty()) {
      registry.require_secret(read_secret_file(opt->registration_secret_file).span());
    }
    fmt::print(stderr, "loading {} ...\n", opt->model);
    nn::LoadedModel loaded = load_model_to_serve(opt->model, opt->calibration);
    loaded.lowered = nn::apply_reveal(loaded.lowered, opt->reveal);
    protocol::ServerOptions server_opts = server_options(opt->gc_scheme, opt->threads);
    apply_weight_cache(server_opts, opt->weight_cache);
    protocol::InferenceServer server(std::move(loaded.lowered), kind, *store, registry,
                                     server_opts);
    fmt::print(stderr, "{} with {} garbling, {} threads per phase, {} MB of HE-encoded weights\n",
               to_string(kind), gc::to_string(server.gc_scheme()), server.threads(),
               server.cached_weight_bytes() / 1000000);
    service::ServiceOptions so;
    so.host = opt->host;
    so.port = opt->port;
    so.max_sessions = opt->max_sessions;
    so.max_queued = opt->queue;
    so.queue_timeout_ms = opt->queue_timeout_ms;
    so.insecure_plaintext_loopback = opt->insecure;  // --insecure is the library's named option
    so.tcp.io_timeout_ms = opt->link.timeout_ms;
    // A short --timeout-ms also shortens the TLS handshake and first-request waits.
    so.tcp.handshake_timeout_ms =
        std::min<uint64_t>(so.tcp.handshake_timeout_ms, opt->link.timeout_ms);
    // The server's side of every client's link: its sends are the downlink, its reads the uplink.
    so.tcp.send_rate_mbps = opt->link.downlink_mbps;
    so.tcp.recv_rate_mbps = opt->link.uplink_mbps;
    if (!opt->insecure) {
      std::filesystem::path cert = opt->cert, key = opt->key;
      if (cert.empty()) {
        const transport::ServerCertificateFiles files =
            transport::ensure_server_certificate(store->root(), {opt->host});
        cert = files.cert_file;
        key = files.key_file;
        fmt::print(stderr, "{} TLS certificate {} (key {}, mode 0600)\n",
                   files.created ? "generated a self-signed" : "using the", cert.string(),
                   key.string());
      }
      so.tls = transport::TlsServerContext::from_pem_files(cert, key);
      // Public: operators hand it to clients out of band (--pin).
      fmt::print(stderr, "TLS certificate SHA-256 fingerprint: {}\n  clients: --pin {}\n",
                 transport::to_hex(so.tls->fingerprint()),
                 transport::to_hex(so.tls->fingerprint()));
    }
    service::InferenceService service(
        server, so, [](std::string_view m) { fmt::print(stderr, "pinfer serve: {}\n", m); });
    // A node of a fleet joins once it listens, so it can advertise the port it was given; it
    // records its precomputes in the cluster (nullptr without --cluster). No connection is
    // served before run().
    const std::shared_ptr<cluster::ClusterNode> node =
        start_cluster_node(opt->cluster, opt->host, service.port(), server.model(), kind, *store,
                           parse_byte_size(opt->capacity, "--capacity"));
    server.set_ledger(node);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::atomic<bool> finished{false};
    std::thread watcher([&] {
      while (!finished.load()) {
        if (g_stop_requested.load()) {
          service.stop();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
    // No "logits" in the server's log (tests/system/log_hygiene_test.cpp).
    fmt::print(
        "serving {} ({}, clients learn {}) on {}:{} ({}; {} registered clients, "
        "registration {})\n",
        server.model().name, protocol::to_string(kind), describe_reveal(server.model()), opt->host,
        service.port(), opt->insecure ? "plain TCP, --insecure" : "TLS 1.3", registry.size(),
        !opt->registration_secret_file.empty() ? "with secret" : opt->registration);
    std::fflush(stdout);
    service.run();
    finished.store(true);
    watcher.join();
    const service::ServiceStats st = service.stats();
    fmt::print(
        "stopped: {} sessions completed, {} failed, {} refused (busy); {} waited in the queue, "
        "{} timed out there, {} left it; {} redirected to their home node\n",
        st.sessions_completed, st.sessions_failed, st.sessions_refused_busy, st.sessions_queued,
        st.queue_timeouts, st.left_queue, st.sessions_redirected);
  });
}

const CommandRegistration kRegistration("", "serve", &setup);

}  // namespace
}  // namespace pinfer::cli
