#include "pinfer/service/inference_service.hpp"

#include <algorithm>
#include <thread>

#include "pinfer/core/error.hpp"
#include "pinfer/transport/endpoint.hpp"

namespace pinfer::service {
namespace {

// Secure by default: plaintext only when asked for by name, and then only on loopback (checked
// before the listener binds).
ServiceOptions checked(ServiceOptions options) {
  if (options.tls && options.insecure_plaintext_loopback) {
    throw InvalidArgument("ServiceOptions: both a TLS context and insecure_plaintext_loopback");
  }
  if (!options.tls) {
    if (!options.insecure_plaintext_loopback) {
      throw InvalidArgument(
          "ServiceOptions: no TLS context; plaintext must be asked for with "
          "insecure_plaintext_loopback (loopback hosts only)",
          ErrorReason::plaintext_refused);
    }
    transport::require_loopback_for_plaintext(transport::Endpoint{options.host, options.port});
  }
  return options;
}

}  // namespace

InferenceService::InferenceService(protocol::InferenceServer& server, ServiceOptions options,
                                   Logger log)
    : server_(server),
      options_(checked(std::move(options))),
      log_(std::move(log)),
      listener_(options_.host, options_.port, options_.tcp, options_.tls) {
  if (options_.first_frame_timeout_ms == 0 || options_.max_sessions == 0) {
    throw InvalidArgument("first_frame_timeout_ms and max_sessions must be positive");
  }
}

InferenceService::~InferenceService() {
  stop();
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return active_.empty() && refusing_.empty(); });
}

void InferenceService::log(std::string_view message) const {
  if (log_) log_(message);
}

void InferenceService::run() {
  while (!stopping_.load()) {
    std::unique_ptr<transport::TcpChannel> ch;
    try {
      ch = listener_.accept(200);
    } catch (const IoError&) {
      continue;  // timeout (checks stopping_) or a failed accept: keep serving
    }
    std::unique_lock lock(mu_);
    if (active_.size() >= options_.max_sessions) {
      ++stats_.sessions_refused_busy;
      if (refusing_.size() >= options_.max_refusals) {
        lock.unlock();
        ch->close();
        log("dropped a connection: server busy and too many refusals in flight");
        continue;
      }
      // The answer may need a TLS handshake: on its own thread, never this one.
      refusing_.insert(ch.get());
      lock.unlock();
      std::thread([this, c = std::move(ch)]() mutable { refuse_busy(std::move(c)); }).detach();
      continue;
    }
    transport::TcpChannel* raw = ch.get();
    active_.insert(raw);
    lock.unlock();
    std::thread([this, c = std::move(ch)]() mutable { serve(std::move(c)); }).detach();
  }
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return active_.empty() && refusing_.empty(); });
}

void InferenceService::refuse_busy(std::unique_ptr<transport::TcpChannel> ch) {
  try {
    ch->handshake();
    ch->send_error("server busy: " + std::to_string(options_.max_sessions) +
                       " sessions active, try again later",
                   ErrorReason::server_busy);
    log("refused a connection: server busy");
  } catch (const std::exception& e) {
    log(std::string("refused a connection (server busy); it failed: ") + e.what());
  }
  ch->close();
  std::lock_guard lock(mu_);
  refusing_.erase(ch.get());
  if (active_.empty() && refusing_.empty()) idle_.notify_all();
}

void InferenceService::serve(std::unique_ptr<transport::TcpChannel> ch) {
  bool ok = true;
  enum class Stage { handshake, greeting, session } stage = Stage::handshake;
  try {
    ch->handshake();
    stage = Stage::greeting;
    // Never longer than the I/O timeout, which would have dropped it without this wait.
    ch->wait_for_peer(std::min(options_.first_frame_timeout_ms, options_.tcp.io_timeout_ms));
    stage = Stage::session;
    server_.serve_connection(*ch);
  } catch (const std::exception& e) {
    ok = false;
    const char* what = stage == Stage::handshake  ? "TLS handshake failed: "
                       : stage == Stage::greeting ? "dropped a silent client: "
                                                  : "session ended with an error: ";
    log(std::string(what) + e.what());
  }
  ch->close();
  std::lock_guard lock(mu_);
  (ok ? stats_.sessions_completed : stats_.sessions_failed) += 1;
  if (!ok && stage == Stage::handshake) ++stats_.handshakes_failed;
  if (!ok && stage == Stage::greeting) ++stats_.silent_clients;
  active_.erase(ch.get());
  if (active_.empty() && refusing_.empty()) idle_.notify_all();
}

void InferenceService::stop() noexcept {
  stopping_.store(true);
  std::lock_guard lock(mu_);
  for (transport::TcpChannel* ch : active_) ch->close();
  for (transport::TcpChannel* ch : refusing_) ch->close();
}

ServiceStats InferenceService::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace pinfer::service
