#pragma once
// Tweakable circular-correlation-robust hash from fixed-key AES (Guo, Katz, Wang, Yu, IEEE S&P
// 2020, Section 7): H(x, i) = pi(pi(x) ^ i) ^ pi(x), pi = AES-128 under a fixed public key.
// Used to break the correlation of IKNP outputs (random and chosen-message OT). Kept local to
// the ot layer (it may not use gc).
#include <cstdint>
#include <span>

#include "pinfer/core/block.hpp"

namespace pinfer::ot::detail {

// out[j] = H(x[j], Block(tweak_base + j, tweak_domain)). Requires x.size() == out.size();
// x and out may alias.
void tccr_hash(std::span<const Block> x, uint64_t tweak_base, uint64_t tweak_domain,
               std::span<Block> out) noexcept;

}  // namespace pinfer::ot::detail
