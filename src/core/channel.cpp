#include "pinfer/core/channel.hpp"

#include <algorithm>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer {

void Channel::send(uint32_t type, std::span<const std::byte> payload) {
  if (payload.size() > max_frame_bytes_) {
    throw InvalidArgument("frame length " + std::to_string(payload.size()) +
                          " exceeds max_frame_bytes " + std::to_string(max_frame_bytes_));
  }
  write_frame(type, payload);
  count(kFrameHeaderBytes + payload.size(), 0);
}

FrameHeader Channel::expect_header(std::span<const FrameExpectation> expected) {
  PINFER_ASSERT(!expected.empty());
  const FrameHeader h = read_header();
  const bool error_expected = std::any_of(expected.begin(), expected.end(),
                                          [](const auto& e) { return e.type == kErrorFrameType; });
  if (h.type == kErrorFrameType && !error_expected) {
    // The peer's own failure: read its bounded payload and surface it with its reason.
    if (h.length > 1 + kMaxErrorMessageBytes) {
      throw ProtocolError("peer reported an error: (message too long)");
    }
    std::vector<std::byte> payload(h.length);
    read_payload(payload);
    count(0, kFrameHeaderBytes + h.length);
    throw_peer_error(payload);
  }
  const auto match = std::find_if(expected.begin(), expected.end(),
                                  [&](const FrameExpectation& e) { return e.type == h.type; });
  if (match == expected.end()) {
    std::string types = std::to_string(expected[0].type);
    for (std::size_t i = 1; i < expected.size(); ++i) {
      types += " or " + std::to_string(expected[i].type);
    }
    throw ProtocolError("expected frame type " + types + ", received type " +
                        std::to_string(h.type));
  }
  const std::size_t cap = std::min(match->max_bytes, max_frame_bytes_);
  if (h.length > cap) {
    throw FormatError("frame length " + std::to_string(h.length) + " exceeds limit " +
                      std::to_string(cap) + " for frame type " + std::to_string(h.type));
  }
  return h;
}

std::vector<std::byte> Channel::recv(uint32_t type, std::size_t max_bytes) {
  const FrameExpectation expected[] = {{type, max_bytes}};
  const FrameHeader h = expect_header(expected);
  std::vector<std::byte> payload(h.length);
  read_payload(payload);
  count(0, kFrameHeaderBytes + h.length);
  return payload;
}

ReceivedFrame Channel::recv_one_of(std::span<const FrameExpectation> expected) {
  const FrameHeader h = expect_header(expected);
  ReceivedFrame frame{h.type, std::vector<std::byte>(h.length)};
  read_payload(frame.payload);
  count(0, kFrameHeaderBytes + h.length);
  return frame;
}

void Channel::recv_exact(uint32_t type, std::span<std::byte> out) {
  const FrameExpectation expected[] = {{type, out.size()}};
  const FrameHeader h = expect_header(expected);
  if (h.length != out.size()) {
    throw FormatError("frame type " + std::to_string(type) + " has length " +
                      std::to_string(h.length) + ", expected " + std::to_string(out.size()));
  }
  read_payload(out);
  count(0, kFrameHeaderBytes + h.length);
}

std::vector<std::byte> encode_error_payload(ErrorReason reason, std::string_view message) {
  const std::string_view msg = message.substr(0, kMaxErrorMessageBytes);
  std::vector<std::byte> payload(1 + msg.size());
  payload[0] = static_cast<std::byte>(reason);
  std::copy(msg.begin(), msg.end(), reinterpret_cast<char*>(payload.data() + 1));
  return payload;
}

void throw_peer_error(std::span<const std::byte> payload) {
  const ErrorReason reason = payload.empty()
                                 ? ErrorReason::unspecified
                                 : error_reason_from_wire(std::to_integer<uint8_t>(payload[0]));
  const std::string msg =
      payload.size() <= 1
          ? std::string("(no message)")
          : std::string(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1);
  if (reason == ErrorReason::store) throw StoreError("peer reported an error: " + msg, reason);
  throw ProtocolError("peer reported an error: " + msg, reason);
}

void Channel::send_error(std::string_view message, ErrorReason reason) noexcept {
  try {
    const std::vector<std::byte> payload = encode_error_payload(reason, message);
    write_frame(kErrorFrameType, payload);
    count(kFrameHeaderBytes + payload.size(), 0);
    flush();
  } catch (...) {
    // Best effort: the connection may already be gone.
  }
}

void Channel::send_error(const Error& error) noexcept {
  send_error(error.what(), error.reason());
}

void Channel::set_phase(std::string_view phase) {
  std::lock_guard lock(mu_);
  phase_ = std::string(phase);
}

std::string Channel::phase() const {
  std::lock_guard lock(mu_);
  return phase_;
}

TrafficReport Channel::traffic() const {
  std::lock_guard lock(mu_);
  return traffic_;
}

void Channel::count(uint64_t sent, uint64_t received) {
  std::lock_guard lock(mu_);
  traffic_.total.bytes_sent += sent;
  traffic_.total.bytes_received += received;
  TrafficCounters& p = traffic_.by_phase[phase_];
  p.bytes_sent += sent;
  p.bytes_received += received;
}

}  // namespace pinfer
