#pragma once
// Bounded admission, the protocol's side of it (docs/PROTOCOLS.md, "Admission"). A server that
// runs its maximum of sessions keeps a new connection waiting in a bounded FIFO queue and tells
// it its place with QueuePlace frames: one when it is queued, one whenever its place changes,
// one at least every few seconds while it waits (so the client knows it waits, not hangs), and
// a last one with position 0 when it is admitted; the session then goes on as usual. Only a
// full queue is refused, with a Busy frame carrying a retry-after hint, which the client raises
// as ServerBusyError and retry_while_busy honours.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "pinfer/core/channel.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::protocol {

// A waiting connection's place in the server's queue.
struct QueuePlace {
  uint32_t position = 0;           // 1: admitted next; 0: admitted now (the last notice)
  uint32_t waiting = 0;            // connections in the queue, this one included
  uint32_t estimated_wait_ms = 0;  // the server's estimate from its mean session time
};

// The server's answer to a connection when its queue is full.
struct BusyNotice {
  uint64_t retry_after_ms = 0;  // when a new attempt is likely to find room in the queue
  uint32_t active_sessions = 0;
  uint32_t waiting = 0;  // the queue's length (= its capacity when full)
};

// Retry-after hints are capped at this when decoded: a peer cannot park a client for days.
inline constexpr uint64_t kMaxRetryAfterMs = 600'000;

// Server side (the service layer): each sends one frame and flushes. Throw IoError.
void send_queue_place(Channel& channel, const QueuePlace& place);
void send_busy(Channel& channel, const BusyNotice& busy);

// How a client waits in a server's queue.
struct AdmissionOptions {
  // Gives up after this long in the queue (IoError with ErrorReason::queue_timeout; closing
  // the connection frees the place). Checked at every QueuePlace, which the server sends at
  // least every few seconds; a server that goes silent is bounded by the channel's I/O timeout.
  uint64_t max_queue_wait_ms = 600'000;
  // Called with every QueuePlace on the receiving thread (optional).
  std::function<void(const QueuePlace&)> on_place = {};
};

// What a client saw of the queue before its first answer.
struct AdmissionRecord {
  uint32_t places_received = 0;  // QueuePlace frames (0: admitted at once)
  uint32_t first_position = 0;   // its place when it was queued (0: never queued)
  // From sending its first request until admitted (the QueuePlace with position 0); zero when
  // admitted at once.
  std::chrono::nanoseconds queued_for{0};
};

// Retries of an attempt that a full queue refused.
struct RetryPolicy {
  std::size_t max_attempts = 10;   // in total, the first included (at least 1)
  uint64_t max_wait_ms = 600'000;  // total time waited between attempts
  // Called before each wait with the refusal and the time about to be waited (optional).
  std::function<void(const ServerBusyError&, uint64_t wait_ms)> on_busy = {};
  // How to wait; empty: std::this_thread::sleep_for (tests pass their own to count waits).
  std::function<void(std::chrono::milliseconds)> sleep = {};
};

// Runs attempt() until it ends without ServerBusyError. After each refusal it waits the
// server's retry-after hint plus up to 10 % jitter (refused clients do not all return at the
// same moment), at least 1 ms; after policy.max_attempts attempts, or when the next wait would
// pass policy.max_wait_ms in total, it rethrows the last ServerBusyError. Any other error
// propagates at once. Returns the number of refusals before the attempt that succeeded.
std::size_t retry_while_busy(const std::function<void()>& attempt, const RetryPolicy& policy = {});

}  // namespace pinfer::protocol
