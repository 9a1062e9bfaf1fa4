#pragma once
// Streaming of payloads larger than one frame (multi-GB garbled circuits) over a Channel.
//
// Wire format: one frame of `type` holding the total length (u64), then data frames of `type`
// of at most `chunk_bytes` each until the total is reached. Neither side holds the whole
// payload: the writer buffers one chunk, the reader one frame.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pinfer/core/channel.hpp"

namespace pinfer {

inline constexpr std::size_t kDefaultStreamChunkBytes = std::size_t{1} << 20;

class ChannelStreamWriter {
 public:
  // Announces `total_bytes`. Requires: chunk_bytes <= channel.max_frame_bytes().
  ChannelStreamWriter(Channel& channel, uint32_t type, uint64_t total_bytes,
                      std::size_t chunk_bytes = kDefaultStreamChunkBytes);
  // Appends bytes; throws InvalidArgument if more than total_bytes would be written.
  void write(std::span<const std::byte> data);
  // Sends what is buffered; throws InvalidArgument unless exactly total_bytes were written.
  void finish();
  [[nodiscard]] uint64_t written() const noexcept { return written_; }

 private:
  void send_buffer();
  Channel& channel_;
  uint32_t type_;
  uint64_t total_;
  uint64_t written_ = 0;
  std::size_t chunk_bytes_;
  std::vector<std::byte> buffer_;
};

class ChannelStreamReader {
 public:
  // Reads the announced total; throws FormatError if it exceeds max_total_bytes.
  ChannelStreamReader(Channel& channel, uint32_t type, uint64_t max_total_bytes,
                      std::size_t chunk_bytes = kDefaultStreamChunkBytes);
  [[nodiscard]] uint64_t total() const noexcept { return total_; }
  [[nodiscard]] uint64_t remaining() const noexcept { return total_ - consumed_; }
  // Fills `out` exactly; throws FormatError if the stream ends first.
  void read(std::span<std::byte> out);
  // Throws FormatError unless the whole stream was consumed.
  void finish() const;

 private:
  Channel& channel_;
  uint32_t type_;
  uint64_t total_ = 0;
  uint64_t consumed_ = 0;
  std::size_t chunk_bytes_;
  std::vector<std::byte> frame_;
  std::size_t frame_pos_ = 0;
};

}  // namespace pinfer
