#include "pinfer/core/channel_stream.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/core/serialization.hpp"

namespace pinfer {

ChannelStreamWriter::ChannelStreamWriter(Channel& channel, uint32_t type, uint64_t total_bytes,
                                         std::size_t chunk_bytes)
    : channel_(channel), type_(type), total_(total_bytes), chunk_bytes_(chunk_bytes) {
  PINFER_ASSERT(chunk_bytes > 0 && chunk_bytes <= channel.max_frame_bytes());
  ByteWriter w;
  w.u64(total_bytes);
  channel_.send(type_, w.data());
  buffer_.reserve(static_cast<std::size_t>(std::min<uint64_t>(chunk_bytes_, total_bytes)));
}

void ChannelStreamWriter::write(std::span<const std::byte> data) {
  if (data.size() > total_ - written_) {
    throw InvalidArgument("stream write of " + std::to_string(data.size()) +
                          " bytes exceeds "
                          "announced total " +
                          std::to_string(total_));
  }
  written_ += data.size();
  while (!data.empty()) {
    const std::size_t take = std::min(data.size(), chunk_bytes_ - buffer_.size());
    buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
    data = data.subspan(take);
    if (buffer_.size() == chunk_bytes_) send_buffer();
  }
}

void ChannelStreamWriter::send_buffer() {
  if (buffer_.empty()) return;
  channel_.send(type_, buffer_);
  buffer_.clear();
}

void ChannelStreamWriter::finish() {
  if (written_ != total_) {
    throw InvalidArgument("stream finished after " + std::to_string(written_) +
                          " bytes, announced " + std::to_string(total_));
  }
  send_buffer();
  channel_.flush();
}

ChannelStreamReader::ChannelStreamReader(Channel& channel, uint32_t type, uint64_t max_total_bytes,
                                         std::size_t chunk_bytes)
    : channel_(channel), type_(type), chunk_bytes_(chunk_bytes) {
  const std::vector<std::byte> head = channel_.recv(type_, 8);
  ByteReader r(head);
  total_ = r.length("stream total bytes", max_total_bytes);
  r.expect_end("stream header");
}

void ChannelStreamReader::read(std::span<std::byte> out) {
  if (out.size() > remaining()) {
    throw FormatError("stream has " + std::to_string(remaining()) + " bytes left, " +
                      std::to_string(out.size()) + " requested");
  }
  while (!out.empty()) {
    if (frame_pos_ == frame_.size()) {
      const uint64_t left_in_stream = total_ - consumed_;
      frame_ = channel_.recv(
          type_, static_cast<std::size_t>(std::min<uint64_t>(chunk_bytes_, left_in_stream)));
      frame_pos_ = 0;
      if (frame_.empty()) throw FormatError("stream data frame is empty");
    }
    const std::size_t take = std::min(out.size(), frame_.size() - frame_pos_);
    std::memcpy(out.data(), frame_.data() + frame_pos_, take);
    frame_pos_ += take;
    consumed_ += take;
    out = out.subspan(take);
  }
}

void ChannelStreamReader::finish() const {
  if (consumed_ != total_ || frame_pos_ != frame_.size()) {
    throw FormatError("stream not fully consumed: " + std::to_string(consumed_) + " of " +
                      std::to_string(total_) + " bytes");
  }
}

}  // namespace pinfer
