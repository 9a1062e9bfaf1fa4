#pragma once
// Conversions between one-choice-bit-per-byte spans and packed bits, branch free (choices are
// secret).
#include <cstddef>
#include <cstdint>
#include <span>

#include "pinfer/core/block.hpp"

namespace pinfer::ot::detail {

// Throws InvalidArgument naming `field` if any byte is not 0 or 1. The check accumulates over
// all bytes and branches once, so it reveals only whether the whole input is well formed.
void check_choice_bits(std::span<const uint8_t> bits, const char* field);

// Packs bits[j] into bit j of the Blocks of `out` (LSB first); bits beyond bits.size() are 0.
// Requires: out.size() * 128 >= bits.size().
void pack_choice_bits(std::span<const uint8_t> bits, std::span<Block> out) noexcept;
// Unpacks the first out.size() bits of `in`. Requires: in.size() * 128 >= out.size().
void unpack_choice_bits(std::span<const Block> in, std::span<uint8_t> out) noexcept;

}  // namespace pinfer::ot::detail
