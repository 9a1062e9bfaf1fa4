#pragma once
// The abstract two-party channel that protocol code talks through.
//
// Messages are typed frames: (type u32, length u64, payload). A receiver states the type it
// expects and the most bytes it accepts; the length is checked against that cap and the
// channel's max_frame_bytes *before* anything is allocated. Payloads larger than one frame go
// through ChannelStreamWriter/Reader (channel_stream.hpp), which never hold them whole.
//
// Byte counters: every frame is counted (header + payload) per direction, in total and under
// the current named phase (set_phase), so protocols can report "offline/ot" traffic etc.
//
// Implementations: make_memory_channel_pair() here (tests, in one process), TcpChannel in
// transport. Thread safety: one thread may send while another receives; counters are thread safe.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pinfer/core/error.hpp"

namespace pinfer {

struct TrafficCounters {
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

struct TrafficReport {
  TrafficCounters total;
  std::map<std::string, TrafficCounters> by_phase;
};

struct FrameHeader {
  uint32_t type = 0;
  uint64_t length = 0;
};

// Bytes of the frame header on the wire: type u32 + length u64.
inline constexpr std::size_t kFrameHeaderBytes = 12;
// Frame type reserved for "the peer failed": payload is one byte of ErrorReason followed by a
// UTF-8 message (at most kMaxErrorMessageBytes).
inline constexpr uint32_t kErrorFrameType = 0xFFFFFFFFu;
inline constexpr std::size_t kMaxErrorMessageBytes = 4096;
// Writes the payload of an error frame (reason byte + message cut to kMaxErrorMessageBytes).
[[nodiscard]] std::vector<std::byte> encode_error_payload(ErrorReason reason,
                                                          std::string_view message);
// Throws what a peer's error frame payload reports: StoreError for ErrorReason::store (the
// peer's store refused), ProtocolError for anything else; both carry the reason and the text.
[[noreturn]] void throw_peer_error(std::span<const std::byte> payload);
inline constexpr std::size_t kDefaultMaxFrameBytes = std::size_t{64} << 20;

// One frame type a receiver accepts at this step, with the most payload bytes it accepts.
struct FrameExpectation {
  uint32_t type = 0;
  std::size_t max_bytes = 0;
};
// A frame received by Channel::recv_one_of: which of the expected types it is, and its payload.
struct ReceivedFrame {
  uint32_t type = 0;
  std::vector<std::byte> payload;
};

class Channel {
 public:
  virtual ~Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Sends one frame. Throws InvalidArgument if payload exceeds max_frame_bytes, IoError on
  // failure.
  void send(uint32_t type, std::span<const std::byte> payload);
  // Receives one frame of `type` with at most `max_bytes` payload bytes.
  // Throws ProtocolError on another type (or the peer's error frame: see throw_peer_error),
  // FormatError if the announced length exceeds the cap, IoError on disconnect or timeout.
  [[nodiscard]] std::vector<std::byte> recv(uint32_t type, std::size_t max_bytes);
  // Receives one frame of any of the `expected` types (e.g. a progress notice or the answer),
  // its length checked against that type's cap and max_frame_bytes before allocating. Throws
  // as recv: ProtocolError naming the expected types when another arrives.
  [[nodiscard]] ReceivedFrame recv_one_of(std::span<const FrameExpectation> expected);
  // Receives one frame of `type` whose length must be exactly out.size().
  void recv_exact(uint32_t type, std::span<std::byte> out);
  // Tells the peer this side failed; its next recv throws (throw_peer_error) with `message`
  // and `reason`. Best effort: never throws.
  void send_error(std::string_view message, ErrorReason reason = ErrorReason::unspecified) noexcept;
  // The same for an error this side caught: its text and its reason.
  void send_error(const Error& error) noexcept;

  // Makes sure buffered frames are on their way.
  virtual void flush() {}
  // Closes the channel; the peer's pending and later receives throw IoError.
  virtual void close() noexcept = 0;

  void set_phase(std::string_view phase);
  [[nodiscard]] std::string phase() const;
  [[nodiscard]] TrafficReport traffic() const;
  [[nodiscard]] std::size_t max_frame_bytes() const noexcept { return max_frame_bytes_; }

 protected:
  explicit Channel(std::size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}
  virtual void write_frame(uint32_t type, std::span<const std::byte> payload) = 0;
  // Reads the next header. Throws IoError on disconnect or timeout.
  virtual FrameHeader read_header() = 0;
  // Reads the payload of the frame whose header was just read. Requires out.size() == length.
  virtual void read_payload(std::span<std::byte> out) = 0;

 private:
  FrameHeader expect_header(std::span<const FrameExpectation> expected);
  void count(uint64_t sent, uint64_t received);

  std::size_t max_frame_bytes_;
  mutable std::mutex mu_;
  std::string phase_ = "default";
  TrafficReport traffic_;
};

struct MemoryChannelOptions {
  std::size_t max_frame_bytes = kDefaultMaxFrameBytes;
  uint64_t recv_timeout_ms = 300'000;
};

// Two connected in-process channels (first <-> second), for two-party tests in one process.
[[nodiscard]] std::pair<std::unique_ptr<Channel>, std::unique_ptr<Channel>>
make_memory_channel_pair(MemoryChannelOptions options = {});

}  // namespace pinfer
