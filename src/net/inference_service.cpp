#include "pinfer/net/inference_service.hpp"

#include <thread>

#include "pinfer/core/error.hpp"

namespace pinfer::net {

InferenceService::InferenceService(protocol::InferenceServer& server, ServiceOptions options,
                                   Logger log)
    : server_(server),
      options_(std::move(options)),
      log_(std::move(log)),
      listener_(options_.host, options_.port, options_.tcp) {}

InferenceService::~InferenceService() {
  stop();
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return active_.empty(); });
}

void InferenceService::log(std::string_view message) const {
  if (log_) log_(message);
}

void InferenceService::run() {
  while (!stopping_.load()) {
    std::unique_ptr<TcpChannel> ch;
    try {
      ch = listener_.accept(200);
    } catch (const IoError&) {
      continue;  // timeout (checks stopping_) or a failed accept: keep serving
    }
    std::unique_lock lock(mu_);
    if (active_.size() >= options_.max_sessions) {
      ++stats_.sessions_refused_busy;
      lock.unlock();
      ch->send_error("server busy: " + std::to_string(options_.max_sessions) +
                     " sessions active, try again later");
      ch->close();
      log("refused a connection: server busy");
      continue;
    }
    TcpChannel* raw = ch.get();
    active_.insert(raw);
    lock.unlock();
    std::thread([this, c = std::move(ch)]() mutable { serve(std::move(c)); }).detach();
  }
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return active_.empty(); });
}

void InferenceService::serve(std::unique_ptr<TcpChannel> ch) {
  bool ok = true;
  try {
    server_.serve_connection(*ch);
  } catch (const std::exception& e) {
    ok = false;
    log(std::string("session ended with an error: ") + e.what());
  }
  ch->close();
  std::lock_guard lock(mu_);
  (ok ? stats_.sessions_completed : stats_.sessions_failed) += 1;
  active_.erase(ch.get());
  if (active_.empty()) idle_.notify_all();
}

void InferenceService::stop() noexcept {
  stopping_.store(true);
  std::lock_guard lock(mu_);
  for (TcpChannel* ch : active_) ch->close();
}

ServiceStats InferenceService::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace pinfer::net
