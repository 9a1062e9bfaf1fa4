#pragma once
// The global offset Delta of free-XOR garbling and of correlated OT: a wire's one-label is its
// zero-label ^ Delta, and IKNP's correlated OT delivers k0 ^ b * Delta (Kolesnikov-Schneider,
// "Improved Garbled Circuit: Free XOR Gates and Applications", ICALP 2008; docs/GC.md).
// Point-and-permute needs lsb(Delta) = 1 (the two labels of a wire then differ in their colour
// bit), so this type holds only such values: there is one way to make one, from the OS random
// source, and one way to name a known one, which refuses an lsb of 0. Neither the garbler nor
// the OT layer has to check it again.
//
// Secret. Copies wipe themselves on destruction; no operator<<.
#include "pinfer/core/block.hpp"

namespace pinfer {

class Delta {
 public:
  // A fresh offset: 128 bits from the OS random source with the lsb set (127 bits of
  // entropy, as free XOR has). Throws IoError if the source is unavailable.
  [[nodiscard]] static Delta random();
  // A known offset: one read back from a precompute's state, or a test's fixed value.
  // Throws InvalidArgument if lsb(block) is 0.
  [[nodiscard]] static Delta from_block(const Block& block);

  Delta(const Delta&) = default;
  Delta& operator=(const Delta&) = default;
  ~Delta();

  [[nodiscard]] const Block& block() const noexcept { return block_; }
  // The kernels (labels, garbling, OT) take the offset as a Block.
  operator const Block&() const noexcept { return block_; }  // NOLINT(google-explicit-constructor)

 private:
  explicit Delta(const Block& block) noexcept : block_(block) {}
  Block block_;
};

}  // namespace pinfer
