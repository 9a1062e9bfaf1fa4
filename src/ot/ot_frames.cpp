#include "ot_frames.hpp"

#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/ot/cot.hpp"

namespace pinfer::ot::detail {

void require_frame_capacity(const Channel& channel, const char* who) {
  if (channel.max_frame_bytes() < kOtMinFrameBytes) {
    throw InvalidArgument(std::string(who) + ": channel max_frame_bytes " +
                          std::to_string(channel.max_frame_bytes()) + " is below the " +
                          std::to_string(kOtMinFrameBytes) + " the OT frames need");
  }
}

}  // namespace pinfer::ot::detail
