#pragma once
// Samplers for keys, errors and masks, driven by the AES-CTR Prg (vectorised AES, so sampling
// is not the bottleneck; SEAL's Blake2-based sampling is ~2/3 of its encryption time).
// Every sampler is branch-free on the sampled values.
#include <cstddef>
#include <cstdint>
#include <span>

#include "pinfer/core/prg.hpp"

namespace pinfer::he::detail {

// Uniform over {-1, 0, 1} (bias <= 2^-62 per coefficient: floor(3 * u / 2^64) for u uniform).
void sample_ternary(Prg& prg, std::span<int8_t> out);
// Centered binomial with eta = 21: popcount(21 bits) - popcount(21 bits), in [-21, 21].
void sample_cbd21(Prg& prg, std::span<int8_t> out);
// Uniform in [0, p): rejection sampling on the low bits(p) bits of each 64-bit word (exact).
void sample_uniform_mod(Prg& prg, uint64_t p, std::span<uint64_t> out);

// Maps a small signed value into [0, p).
[[nodiscard]] inline uint64_t lift_signed(int64_t v, uint64_t p) noexcept {
  return static_cast<uint64_t>(v) + (p & (0 - static_cast<uint64_t>(v < 0)));
}

}  // namespace pinfer::he::detail
