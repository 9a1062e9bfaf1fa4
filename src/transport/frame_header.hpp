#pragma once
// The frame header on the wire (private to transport): type u32 LE, length u64 LE,
// kFrameHeaderBytes in all (pinfer/core/channel.hpp). The build asserts a little-endian host
// (serialization.cpp), so the fields are copied as they are.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pinfer/core/channel.hpp"

namespace pinfer::transport::detail {

inline void encode_frame_header(uint32_t type, uint64_t length,
                                std::byte out[kFrameHeaderBytes]) noexcept {
  std::memcpy(out, &type, 4);
  std::memcpy(out + 4, &length, 8);
}

[[nodiscard]] inline FrameHeader decode_frame_header(
    const std::byte in[kFrameHeaderBytes]) noexcept {
  FrameHeader h;
  std::memcpy(&h.type, in, 4);
  std::memcpy(&h.length, in + 4, 8);
  return h;
}

}  // namespace pinfer::transport::detail
