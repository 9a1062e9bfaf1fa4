#pragma once
// Frame types of the ot layer on a Channel ("OT" in the high half, so a frame from another
// layer arriving at the wrong step is a ProtocolError, not garbage input).
#include <cstddef>
#include <cstdint>

#include "pinfer/core/channel.hpp"

namespace pinfer::ot::detail {

inline constexpr uint32_t kFrameBaseOtSetup = 0x4F540001;  // C || g^r
inline constexpr uint32_t kFrameBaseOtKeys = 0x4F540002;   // receiver's points
inline constexpr uint32_t kFrameIknpColumns = 0x4F540003;  // one chunk of u columns
inline constexpr uint32_t kFrameChosenOt = 0x4F540004;     // y0 || y1 per OT
// 0x4F540005 and 0x4F540006 were the removed precomputed-OT derandomization frames; not reused.

// Throws InvalidArgument if the channel's frame cap is below kOtMinFrameBytes (the largest
// frame the ot layer sends), so a misconfigured channel fails at construction, not mid-stream.
void require_frame_capacity(const Channel& channel, const char* who);

}  // namespace pinfer::ot::detail
