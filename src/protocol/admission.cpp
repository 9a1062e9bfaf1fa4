#include "pinfer/protocol/admission.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <thread>

#include "admission_impl.hpp"
#include "frames.hpp"
#include "pinfer/core/serialization.hpp"
#include "pinfer/protocol/redirect.hpp"

namespace pinfer::protocol {

void send_queue_place(Channel& channel, const QueuePlace& place) {
  channel.send(frames::kQueuePlace, detail::encode(place));
  channel.flush();
}

void send_busy(Channel& channel, const BusyNotice& busy) {
  channel.send(frames::kBusy, detail::encode(busy));
  channel.flush();
}

std::size_t retry_while_busy(const std::function<void()>& attempt, const RetryPolicy& policy) {
  // Jitter only spreads retries in time; it protects nothing, so any seed will do.
  std::minstd_rand jitter(std::random_device{}());
  uint64_t waited_ms = 0;
  for (std::size_t refusals = 0;; ++refusals) {
    try {
      attempt();
      return refusals;
    } catch (const ServerBusyError& busy) {
      const uint64_t hint = std::min(busy.retry_after_ms(), kMaxRetryAfterMs);
      const uint64_t wait_ms = std::max<uint64_t>(1, hint + jitter() % (hint / 10 + 1));
      if (refusals + 1 >= std::max<std::size_t>(policy.max_attempts, 1) ||
          waited_ms + wait_ms > policy.max_wait_ms) {
        throw;
      }
      if (policy.on_busy) policy.on_busy(busy, wait_ms);
      if (policy.sleep) {
        policy.sleep(std::chrono::milliseconds(wait_ms));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      }
      waited_ms += wait_ms;
    }
  }
}

namespace detail {

std::vector<std::byte> encode(const QueuePlace& place) {
  ByteWriter w;
  w.u32(place.position);
  w.u32(place.waiting);
  w.u32(place.estimated_wait_ms);
  return w.take();
}

QueuePlace decode_queue_place(std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  QueuePlace place;
  place.position = r.u32("queue position");
  place.waiting = r.u32("queue length");
  place.estimated_wait_ms = r.u32("estimated wait");
  r.expect_end("queue place");
  if (place.position > place.waiting) {
    throw FormatError("queue position " + std::to_string(place.position) +
                      " exceeds queue length " + std::to_string(place.waiting));
  }
  return place;
}

std::vector<std::byte> encode(const BusyNotice& busy) {
  ByteWriter w;
  w.u64(busy.retry_after_ms);
  w.u32(busy.active_sessions);
  w.u32(busy.waiting);
  return w.take();
}

BusyNotice decode_busy(std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  BusyNotice busy;
  busy.retry_after_ms = std::min(r.u64("retry after"), kMaxRetryAfterMs);
  busy.active_sessions = r.u32("active sessions");
  busy.waiting = r.u32("queue length");
  r.expect_end("busy");
  return busy;
}

std::vector<std::byte> recv_after_admission(Channel& channel, uint32_t type, std::size_t max_bytes,
                                            const AdmissionOptions& options,
                                            AdmissionRecord* record) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  AdmissionRecord seen;
  bool admitted = false;
  const FrameExpectation expected[] = {{frames::kQueuePlace, kQueuePlaceBytes},
                                       {frames::kBusy, kBusyBytes},
                                       {frames::kRedirect, kMaxRedirectAddressChars},
                                       {type, max_bytes}};
  for (;;) {
    ReceivedFrame frame = channel.recv_one_of(expected);
    if (frame.type == type) {
      if (record != nullptr) *record = seen;
      return std::move(frame.payload);
    }
    // A node of a fleet that is not this client's home names the home instead (redirect.hpp).
    if (frame.type == frames::kRedirect) throw RedirectError(decode_redirect(frame.payload));
    if (frame.type == frames::kBusy) {
      const BusyNotice busy = decode_busy(frame.payload);
      throw ServerBusyError("server busy: " + std::to_string(busy.active_sessions) +
                                " sessions active and " + std::to_string(busy.waiting) +
                                " waiting (its queue is full); retry after " +
                                std::to_string(busy.retry_after_ms) + " ms",
                            busy.retry_after_ms);
    }
    const QueuePlace place = decode_queue_place(frame.payload);
    // The notice of admission comes once, last: a place after it is a broken server.
    if (admitted) throw ProtocolError("the server sent a queue place after admitting");
    ++seen.places_received;
    if (seen.places_received == 1) seen.first_position = place.position;
    if (options.on_place) options.on_place(place);
    const auto waited = Clock::now() - start;
    if (place.position == 0) {
      admitted = true;
      seen.queued_for = waited;
      continue;
    }
    const auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(waited).count();
    if (static_cast<uint64_t>(waited_ms) >= options.max_queue_wait_ms) {
      throw IoError("waited " + std::to_string(waited_ms) + " ms in the server's queue (place " +
                        std::to_string(place.position) + " of " + std::to_string(place.waiting) +
                        "), longer than max_queue_wait_ms " +
                        std::to_string(options.max_queue_wait_ms),
                    ErrorReason::queue_timeout);
    }
  }
}

}  // namespace detail
}  // namespace pinfer::protocol
