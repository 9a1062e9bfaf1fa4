#pragma once
// The wire form of the admission frames (include/pinfer/protocol/admission.hpp) and the client's
// wait for its first answer behind them.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pinfer/core/channel.hpp"
#include "pinfer/protocol/admission.hpp"

namespace pinfer::protocol::detail {

inline constexpr std::size_t kQueuePlaceBytes = 12;
inline constexpr std::size_t kBusyBytes = 16;

[[nodiscard]] std::vector<std::byte> encode(const QueuePlace& place);
[[nodiscard]] QueuePlace decode_queue_place(std::span<const std::byte> bytes);
[[nodiscard]] std::vector<std::byte> encode(const BusyNotice& busy);
// Caps retry_after_ms at kMaxRetryAfterMs.
[[nodiscard]] BusyNotice decode_busy(std::span<const std::byte> bytes);

// Receives the server's first answer (a frame of `type`, at most max_bytes) after the
// QueuePlace frames that may come first. Throws ServerBusyError when the server's queue is full
// (a Busy frame), IoError with ErrorReason::queue_timeout after options.max_queue_wait_ms in the
// queue, else as Channel::recv (a queue timeout on the server's side arrives as its error frame
// with that reason). Fills `record` when not null.
[[nodiscard]] std::vector<std::byte> recv_after_admission(Channel& channel, uint32_t type,
                                                          std::size_t max_bytes,
                                                          const AdmissionOptions& options,
                                                          AdmissionRecord* record = nullptr);

}  // namespace pinfer::protocol::detail
