#include "pinfer/service/inference_service.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "pinfer/core/error.hpp"
#include "pinfer/protocol/admission.hpp"
#include "pinfer/transport/endpoint.hpp"
#include "service/admission_queue.hpp"

namespace pinfer::service {
namespace {

using Clock = std::chrono::steady_clock;

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

uint32_t clamp_u32(uint64_t v) {
  return static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX));
}

// How long a refused connection may take to say hello before it gets its answer anyway.
constexpr uint64_t kRefusalHelloWaitMs = 2'000;

}  // namespace

InferenceService::InferenceService(protocol::InferenceServer& server, ServiceOptions options,
                                   Logger log)
    : server_(server),
      options_(checked(std::move(options))),
      log_(std::move(log)),
      listener_(options_.host, options_.port, options_.tcp, options_.tls) {
  if (options_.first_frame_timeout_ms == 0 || options_.max_sessions == 0 ||
      options_.queue_timeout_ms == 0 || options_.queue_place_interval_ms == 0) {
    throw InvalidArgument(
        "first_frame_timeout_ms, max_sessions, queue_timeout_ms and queue_place_interval_ms "
        "must be positive");
  }
  queue_ = std::make_unique<AdmissionQueue>(
      AdmissionLimits{.max_sessions = options_.max_sessions, .max_queued = options_.max_queued});
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
    const AdmissionQueue::Arrival arrival = queue_->arrive();
    std::unique_lock lock(mu_);
    if (arrival.outcome == AdmissionQueue::Outcome::full) {
      ++stats_.sessions_refused_busy;
      if (refusing_.size() >= options_.max_refusals) {
        lock.unlock();
        ch->close();
        log("dropped a connection: server busy, queue full and too many refusals in flight");
        continue;
      }
      // The answer may need a TLS handshake: on its own thread, never this one.
      refusing_.insert(ch.get());
      lock.unlock();
      std::thread([this, c = std::move(ch), after = arrival.retry_after_ms]() mutable {
        refuse_busy(std::move(c), after);
      }).detach();
      continue;
    }
    const bool queued = arrival.outcome == AdmissionQueue::Outcome::queued;
    if (queued) ++stats_.sessions_queued;
    active_.insert(ch.get());
    lock.unlock();
    std::thread([this, c = std::move(ch), t = arrival.ticket, queued]() mutable {
      serve(std::move(c), t, queued);
    }).detach();
  }
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return active_.empty() && refusing_.empty(); });
}

void InferenceService::refuse_busy(std::unique_ptr<transport::TcpChannel> ch,
                                   uint64_t retry_after_ms) {
  try {
    ch->handshake();
    // Read the client's hello before answering: a client of another session version then
    // learns that instead of a frame it does not know, and the socket is not closed with
    // unread bytes (which resets the connection and can lose the answer on its way).
    if (ch->peer_has_sent(std::min(options_.first_frame_timeout_ms, kRefusalHelloWaitMs))) {
      (void)protocol::InferenceServer::read_greeting(*ch);
    }
    const AdmissionCounts c = queue_->counts();
    protocol::send_busy(*ch, {retry_after_ms, clamp_u32(c.active), clamp_u32(c.waiting)});
    log("refused a connection: server busy, queue full (retry after " +
        std::to_string(retry_after_ms) + " ms)");
  } catch (const std::exception& e) {
    log(std::string("refused a connection (server busy); it failed: ") + e.what());
  }
  ch->close();
  std::lock_guard lock(mu_);
  refusing_.erase(ch.get());
  if (active_.empty() && refusing_.empty()) idle_.notify_all();
}

bool InferenceService::wait_in_queue(transport::TcpChannel& ch, uint64_t ticket) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.queue_timeout_ms);
  const auto interval = std::chrono::milliseconds(options_.queue_place_interval_ms);
  std::size_t told = 0;  // the place last sent (0: none yet)
  auto next_notice = Clock::now();
  const auto left = [&] {
    std::lock_guard lock(mu_);
    ++stats_.left_queue;
    return false;
  };
  const auto tell = [&](std::size_t position) {
    const uint64_t waiting = queue_->counts().waiting;
    protocol::send_queue_place(
        ch, {clamp_u32(position), clamp_u32(std::max<uint64_t>(waiting, position)),
             clamp_u32(queue_->estimated_wait_ms(position))});
    told = position;
    next_notice = Clock::now() + interval;
  };
  try {
    for (;;) {
      const AdmissionQueue::WaitResult r =
          queue_->wait(ticket, told, std::min(next_notice, deadline));
      // A waiting client sends nothing after its hello: anything readable is its departure.
      if (r.wake == AdmissionQueue::Wake::closed || ch.peer_has_sent(0)) return left();
      if (r.wake == AdmissionQueue::Wake::admitted) {
        if (told != 0) tell(0);  // only a client that was told it waits hears it is admitted
        return true;
      }
      if (r.wake == AdmissionQueue::Wake::timed_out && Clock::now() >= deadline) {
        const std::string msg = "waited " + std::to_string(options_.queue_timeout_ms) +
                                " ms in the admission queue without a session slot (place " +
                                std::to_string(told) + ")";
        ch.send_error(msg, ErrorReason::queue_timeout);
        log("refused a connection: " + msg);
        std::lock_guard lock(mu_);
        ++stats_.queue_timeouts;
        return false;
      }
      tell(r.wake == AdmissionQueue::Wake::moved ? r.position : told);
    }
  } catch (const IoError&) {
    return left();  // the client went away while told its place
  }
}

void InferenceService::serve(std::unique_ptr<transport::TcpChannel> ch, uint64_t ticket,
                             bool queued) {
  bool ok = true;
  std::optional<std::chrono::nanoseconds> session_time;
  enum class Stage {
    handshake,
    greeting,
    route,
    redirected,
    queue,
    session
  } stage = Stage::handshake;
  try {
    ch->handshake();
    stage = Stage::greeting;
    // Never longer than the I/O timeout, which would have dropped it without this wait.
    ch->wait_for_peer(std::min(options_.first_frame_timeout_ms, options_.tcp.io_timeout_ms));
    protocol::Greeting greeting = protocol::InferenceServer::read_greeting(*ch);
    // Authentication and, in a fleet, the redirect to the client's home node need no slot: a
    // client bound elsewhere never waits in this node's queue.
    stage = Stage::route;
    if (server_.route(*ch, greeting)) {
      stage = Stage::redirected;
    } else {
      stage = Stage::queue;
    }
    if (stage == Stage::queue && (!queued || wait_in_queue(*ch, ticket))) {
      stage = Stage::session;
      const bool registration = greeting.registration();
      const auto begin = Clock::now();
      server_.serve_connection(*ch, std::move(greeting));
      // Registrations take milliseconds: they would drag the mean below what a waiting
      // client waits for.
      if (!registration) session_time = Clock::now() - begin;
    }
  } catch (const std::exception& e) {
    ok = false;
    const char* what = stage == Stage::handshake  ? "TLS handshake failed: "
                       : stage == Stage::greeting ? "dropped a silent client: "
                                                  : "session ended with an error: ";
    log(std::string(what) + e.what());
  }
  ch->close();
  // Frees the slot (or the place) for the next in line; only sessions that ran count in the mean.
  queue_->release(ticket, session_time);
  std::lock_guard lock(mu_);
  // A connection refused or gone while it waited is counted by wait_in_queue, not here.
  if (ok && stage == Stage::redirected) {
    ++stats_.sessions_redirected;
  } else if (!ok || stage != Stage::queue) {
    (ok ? stats_.sessions_completed : stats_.sessions_failed) += 1;
  }
  if (!ok && stage == Stage::handshake) ++stats_.handshakes_failed;
  if (!ok && stage == Stage::greeting) ++stats_.silent_clients;
  active_.erase(ch.get());
  if (active_.empty() && refusing_.empty()) idle_.notify_all();
}

void InferenceService::stop() noexcept {
  stopping_.store(true);
  queue_->close();
  std::lock_guard lock(mu_);
  for (transport::TcpChannel* ch : active_) ch->close();
  for (transport::TcpChannel* ch : refusing_) ch->close();
}

ServiceStats InferenceService::stats() const {
  const AdmissionCounts c = queue_->counts();
  const double mean_ms = std::chrono::duration<double, std::milli>(queue_->mean_session()).count();
  std::lock_guard lock(mu_);
  ServiceStats s = stats_;
  s.active_sessions = c.active;
  s.waiting = c.waiting;
  s.mean_session_ms = mean_ms;
  return s;
}

}  // namespace pinfer::service
