#pragma once
// The server loop: accepts TCP connections and serves each on its own thread with an
// InferenceServer, up to max_sessions at once; further clients get a clear "server busy" error
// instead of a hang. A failing connection is logged and closed; the others go on.
// With options.tls, every connection is TLS 1.3; its handshake runs on the session's thread
// (or a refusal thread), never on the accepting one, bounded by tcp.handshake_timeout_ms.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/transport/tcp_listener.hpp"
#include "pinfer/transport/tcp_options.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace pinfer::service {

struct ServiceOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: ephemeral, see InferenceService::port()
  transport::TcpOptions tcp = {};
  std::size_t max_sessions = 16;
  // TLS 1.3 with this certificate. Required unless insecure_plaintext_loopback is set.
  std::shared_ptr<const transport::TlsServerContext> tls = nullptr;
  // Serve plaintext TCP without TLS, which is only allowed on a loopback host (tests and
  // experiments on one machine). Without tls and without this, the service refuses to start
  // (InvalidArgument, ErrorReason::plaintext_refused); with both it is a contradiction.
  bool insecure_plaintext_loopback = false;
  // Busy refusals in flight at once (each may wait for a TLS handshake); beyond this, excess
  // connections are closed without an answer.
  std::size_t max_refusals = 16;
  // A client must start its first request (registration or session Hello) within this long of
  // connecting (after the TLS handshake), or it loses its session slot; capped by
  // tcp.io_timeout_ms.
  uint64_t first_frame_timeout_ms = 10'000;
};

struct ServiceStats {
  uint64_t sessions_completed = 0;
  uint64_t sessions_failed = 0;
  uint64_t sessions_refused_busy = 0;
  uint64_t handshakes_failed = 0;  // TLS handshakes that failed or timed out (also "failed")
  uint64_t silent_clients = 0;     // sent nothing within first_frame_timeout_ms (also "failed")
};

class InferenceService {
 public:
  using Logger = std::function<void(std::string_view)>;
  // Binds the listener. Throws as TcpListener.
  InferenceService(protocol::InferenceServer& server, ServiceOptions options, Logger log = {});
  ~InferenceService();
  InferenceService(const InferenceService&) = delete;
  InferenceService& operator=(const InferenceService&) = delete;

  [[nodiscard]] uint16_t port() const noexcept { return listener_.port(); }
  // Accepts and serves until stop() is called; then waits for the sessions to end.
  void run();
  // Thread safe; also callable from another thread while run() blocks.
  void stop() noexcept;
  [[nodiscard]] ServiceStats stats() const;

 private:
  void serve(std::unique_ptr<transport::TcpChannel> channel);
  void refuse_busy(std::unique_ptr<transport::TcpChannel> channel);
  void log(std::string_view message) const;

  protocol::InferenceServer& server_;
  ServiceOptions options_;
  Logger log_;
  transport::TcpListener listener_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::set<transport::TcpChannel*> active_;
  std::set<transport::TcpChannel*> refusing_;
  ServiceStats stats_;
};

}  // namespace pinfer::service
