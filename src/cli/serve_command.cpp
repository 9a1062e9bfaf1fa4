// `pinfer serve`: the private-inference server.
#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <thread>

#include "command_registry.hpp"
#include "pi_common.hpp"
#include "pinfer/net/inference_service.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/inference_server.hpp"

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
  LinkOptions link;
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
  cmd->add_option("--capacity", opt->capacity, "Store capacity, e.g. 100GB")->required();
  cmd->add_option("--client-quota", opt->client_quota, "Per-client share of the store, e.g. 20GB");
  cmd->add_option("--host", opt->host, "Address to listen on");
  cmd->add_option("--port", opt->port, "TCP port (0: any free port, printed)");
  cmd->add_option("--max-sessions", opt->max_sessions, "Concurrent sessions; more get 'busy'")
      ->check(CLI::Range(1, 4096));
  add_link_options(*cmd, opt->link);
  cmd->callback([opt] {
    const protocol::ProtocolKind kind = protocol::parse_protocol_kind(opt->protocol);
    auto store = open_store(opt->store, opt->capacity, opt->client_quota);
    fmt::print(stderr, "loading {} ...\n", opt->model);
    nn::LoadedModel loaded = nn::load_model(opt->model);
    protocol::InferenceServer server(std::move(loaded.lowered), kind, *store);
    net::ServiceOptions so;
    so.host = opt->host;
    so.port = opt->port;
    so.max_sessions = opt->max_sessions;
    so.tcp.io_timeout_ms = opt->link.timeout_ms;
    so.tcp.send_rate_mbps = opt->link.downlink_mbps;
    net::InferenceService service(
        server, so, [](std::string_view m) { fmt::print(stderr, "pinfer serve: {}\n", m); });
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
    fmt::print("serving {} ({}) on {}:{}\n", server.model().name, protocol::to_string(kind),
               opt->host, service.port());
    std::fflush(stdout);
    service.run();
    finished.store(true);
    watcher.join();
    const net::ServiceStats st = service.stats();
    fmt::print("stopped: {} sessions completed, {} failed, {} refused (busy)\n",
               st.sessions_completed, st.sessions_failed, st.sessions_refused_busy);
  });
}

const CommandRegistration kRegistration("", "serve", &setup);

}  // namespace
}  // namespace pinfer::cli
