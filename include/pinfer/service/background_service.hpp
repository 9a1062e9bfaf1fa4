#pragma once
// A model served from a background thread: the client registry (<store>/CLIENTS), the
// InferenceServer and the InferenceService loop, owned together. Used where the server lives in
// the same process as its caller: `pinfer demo`, `pinfer characterize` and the Python module's
// pinfer.Server. `pinfer serve` runs the same loop on its main thread instead.
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/protocol/protocol_kind.hpp"
#include "pinfer/service/inference_service.hpp"
#include "pinfer/store/precompute_store.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace pinfer::service {

class BackgroundService {
 public:
  // Binds options.host:options.port (0: ephemeral) and starts serving. `store` is kept by
  // reference for the service's lifetime. Throws as InferenceServer and TcpListener.
  BackgroundService(nn::LoweredModel model, protocol::ProtocolKind kind,
                    store::PrecomputeStore& store, ServiceOptions options,
                    protocol::RegistrationPolicy registration = protocol::RegistrationPolicy::open,
                    InferenceService::Logger log = {}, protocol::ServerOptions server_options = {});
  // stop() on every path.
  ~BackgroundService();
  BackgroundService(const BackgroundService&) = delete;
  BackgroundService& operator=(const BackgroundService&) = delete;

  [[nodiscard]] uint16_t port() const noexcept { return service_.port(); }
  // "host:port" as clients connect to it (the bound host, the actual port).
  [[nodiscard]] std::string endpoint() const;
  // The TLS context (its fingerprint is what clients pin), or null when serving plain TCP.
  [[nodiscard]] const std::shared_ptr<const transport::TlsServerContext>& tls() const noexcept {
    return tls_;
  }
  [[nodiscard]] const protocol::InferenceServer& server() const noexcept { return server_; }
  [[nodiscard]] ServiceStats stats() const { return service_.stats(); }
  // Stops accepting, waits for the open sessions to end and joins the thread. Idempotent;
  // blocks while a session is in progress (sessions end at their peer's goodbye or timeout).
  void stop() noexcept;

 private:
  std::string host_;
  std::shared_ptr<const transport::TlsServerContext> tls_;
  protocol::ClientRegistry registry_;
  protocol::InferenceServer server_;
  InferenceService service_;
  std::thread thread_;
};

}  // namespace pinfer::service
