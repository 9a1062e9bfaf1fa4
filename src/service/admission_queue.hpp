#pragma once
// Bounded admission of the server loop (issue 17, docs/PROTOCOLS.md "Admission"): at most
// max_sessions sessions hold a slot at once; further connections wait in a FIFO queue of at most
// max_queued places and take the slot of the next session that ends, in the order they came; a
// connection that finds the queue full is refused with a hint of when to retry, computed from
// the observed mean session time. Every container is bounded (max_sessions + max_queued
// tickets), so a flood of connections cannot grow it.
//
// It holds no sockets and no clock of its own for sessions: the caller says how long each
// session took (finish), so tests drive it without timing.
// Thread safety: every member is thread safe.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>

namespace pinfer::service {

struct AdmissionLimits {
  std::size_t max_sessions = 16;  // at least 1
  std::size_t max_queued = 64;    // 0: refuse at once when every slot is taken
  // The mean session time assumed until sessions have ended.
  std::chrono::milliseconds initial_session_estimate{1000};
};

struct AdmissionCounts {
  std::size_t active = 0;   // tickets holding a session slot now
  std::size_t waiting = 0;  // tickets in the queue now
  uint64_t admitted_at_once = 0;
  uint64_t admitted_from_queue = 0;
  uint64_t refused_full = 0;
  uint64_t left_queue = 0;  // gave up their place (disconnect, timeout, stop)
};

// Retry-after hints stay within these bounds.
inline constexpr uint64_t kMinRetryAfterMs = 10;
inline constexpr uint64_t kMaxRetryAfterMsHint = 60'000;

class AdmissionQueue {
 public:
  using Ticket = uint64_t;
  using Clock = std::chrono::steady_clock;

  enum class Outcome { admitted, queued, full };
  struct Arrival {
    Outcome outcome = Outcome::full;
    Ticket ticket = 0;            // 0 when full
    std::size_t position = 0;     // 1-based place when queued
    uint64_t retry_after_ms = 0;  // when full
  };
  enum class Wake { admitted, moved, timed_out, closed };
  struct WaitResult {
    Wake wake = Wake::timed_out;
    std::size_t position = 0;  // the place now (0 once admitted)
  };

  // Throws InvalidArgument if limits.max_sessions is 0.
  explicit AdmissionQueue(AdmissionLimits limits);

  // A new connection: takes a free slot when nobody waits, else the last place in the queue,
  // else is refused (counted, with a retry-after hint).
  [[nodiscard]] Arrival arrive();
  // Waits, for a queued ticket, until it is admitted, its place differs from known_position,
  // the queue closes, or `until` passes (whichever first; checked in that order).
  [[nodiscard]] WaitResult wait(Ticket ticket, std::size_t known_position, Clock::time_point until);
  // The place of a queued ticket (0 once admitted or gone).
  [[nodiscard]] std::size_t position(Ticket ticket) const;
  // Ends a ticket, queued or holding a slot (a slot goes to the head of the queue). With the
  // time its session ran, that time enters the mean; without (it never started, or failed
  // early), it does not. A ticket already ended is ignored.
  void release(Ticket ticket, std::optional<std::chrono::nanoseconds> session_time = std::nullopt);
  // Wakes every waiter with Wake::closed; later arrivals are refused.
  void close();

  // Mean of recent session times (exponentially weighted, 1/8 per session).
  [[nodiscard]] std::chrono::nanoseconds mean_session() const;
  // When a refused connection should retry: the time for half the queue (and one more) to be
  // admitted, at max_sessions sessions of the mean time in parallel, within
  // [kMinRetryAfterMs, kMaxRetryAfterMsHint].
  [[nodiscard]] uint64_t retry_after_ms() const;
  // The expected wait of the ticket at `position`: position * mean / max_sessions.
  [[nodiscard]] uint64_t estimated_wait_ms(std::size_t position) const;
  [[nodiscard]] AdmissionCounts counts() const;
  [[nodiscard]] const AdmissionLimits& limits() const noexcept { return limits_; }

 private:
  // Requires mu_. Fills free slots from the head of the queue; wakes the waiters.
  void admit_locked();
  uint64_t retry_after_locked() const;
  uint64_t estimated_wait_locked(std::size_t position) const;
  std::size_t position_locked(Ticket ticket) const;

  const AdmissionLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  Ticket next_ticket_ = 1;
  std::set<Ticket> holding_;  // at most max_sessions
  std::deque<Ticket> queue_;  // at most max_queued, oldest first
  bool closed_ = false;
  double mean_session_ns_;
  bool mean_observed_ = false;
  AdmissionCounts counts_;
};

}  // namespace pinfer::service
