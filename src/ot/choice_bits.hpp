#pragma once
// Checking one-choice-bit-per-byte spans (choices are secret). Packing them is core's
// pack_bits / unpack_bits (pinfer/core/bit_packing.hpp).
#include <cstddef>
#include <cstdint>
#include <span>

namespace pinfer::ot::detail {

// Throws InvalidArgument naming `field` if any byte is not 0 or 1. The check accumulates over
// all bytes and branches once, so it reveals only whether the whole input is well formed.
void check_choice_bits(std::span<const uint8_t> bits, const char* field);

}  // namespace pinfer::ot::detail
