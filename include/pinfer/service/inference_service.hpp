#pragma once
// The server loop: accepts TCP connections and serves each on its own thread with an
// InferenceServer, up to max_sessions at once. Further connections wait in a bounded FIFO queue
// (max_queued places), told their place (protocol/admission.hpp), and are admitted in order as
// sessions end; only a full queue is refused, with a retry-after hint (ServerBusyError at the
// client), and a connection that waits longer than queue_timeout_ms is refused with
// ErrorReason::queue_timeout. A failing connection is logged and closed; the others go on.
// With options.tls, every connection is TLS 1.3; its handshake runs on the session's thread
// (or a refusal thread), never on the accepting one, bounded by tcp.handshake_timeout_ms.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/transport/tcp_listener.hpp"
#include "pinfer/transport/tcp_options.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace pinfer::service {

class AdmissionQueue;

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
  // Places in the admission queue beyond max_sessions (0: refuse at once, as "server busy").
  // Each waiting connection holds a socket and a thread, so this bounds both.
  std::size_t max_queued = 64;
  // A connection that waited this long without a session slot is refused
  // (ErrorReason::queue_timeout).
  uint64_t queue_timeout_ms = 120'000;
  // A waiting connection hears its place whenever it changes and at least this often, which
  // also bounds how long a client that left the queue keeps its place.
  uint64_t queue_place_interval_ms = 2'000;
};

struct ServiceStats {
  uint64_t sessions_completed = 0;
  uint64_t sessions_failed = 0;
  uint64_t sessions_redirected = 0;    // a fleet node sent the client to its home (no slot used)
  uint64_t sessions_refused_busy = 0;  // the queue was full (a Busy answer or dropped)
  uint64_t handshakes_failed = 0;      // TLS handshakes that failed or timed out (also "failed")
  uint64_t silent_clients = 0;         // sent nothing within first_frame_timeout_ms (also "failed")
  uint64_t sessions_queued = 0;        // connections that waited in the admission queue
  uint64_t queue_timeouts = 0;         // refused after queue_timeout_ms in the queue
  uint64_t left_queue = 0;             // closed by their client while waiting (or during a stop)
  // Now: sessions holding a slot (max_sessions at most) and connections waiting for one.
  uint64_t active_sessions = 0;
  uint64_t waiting = 0;
  // The mean of recent session times, which the retry-after hint and the estimated waits use.
  double mean_session_ms = 0;
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
  void serve(std::unique_ptr<transport::TcpChannel> channel, uint64_t ticket, bool queued);
  // Keeps a queued connection told its place until it is admitted (true), or refuses or drops
  // it (false: timed out, left, or the service stops).
  bool wait_in_queue(transport::TcpChannel& channel, uint64_t ticket);
  void refuse_busy(std::unique_ptr<transport::TcpChannel> channel, uint64_t retry_after_ms);
  void log(std::string_view message) const;

  protocol::InferenceServer& server_;
  ServiceOptions options_;
  Logger log_;
  transport::TcpListener listener_;
  std::unique_ptr<AdmissionQueue> queue_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::set<transport::TcpChannel*> active_;
  std::set<transport::TcpChannel*> refusing_;
  ServiceStats stats_;
};

}  // namespace pinfer::service
