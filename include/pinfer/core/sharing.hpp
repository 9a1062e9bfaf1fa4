#pragma once
// Two-party additive secret sharing over Z_2^l: x = masked + mask (mod 2^l).
//
// In pinfer the server holds `masked` = x - r and the client holds the mask r
// (docs/ARCHITECTURE.md).
#include "pinfer/core/prg.hpp"
#include "pinfer/core/ring.hpp"
#include "pinfer/core/tensor.hpp"

namespace pinfer {

struct SharedTensor {
  RingTensor masked;  // x - r
  RingTensor mask;    // r, uniform
};

// Secret: `x`, the PRG state. Samples a uniform mask r and returns (x - r, r).
[[nodiscard]] SharedTensor share(const Ring& ring, const RingTensor& x, Prg& prg);
// x = masked + mask. Throws InvalidArgument on shape mismatch.
[[nodiscard]] RingTensor reconstruct(const Ring& ring, const RingTensor& masked,
                                     const RingTensor& mask);

}  // namespace pinfer
