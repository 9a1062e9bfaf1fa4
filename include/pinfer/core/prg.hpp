#pragma once
// Pseudorandom generator: AES-128 in counter mode keyed by a 128-bit seed.
//
// Prg() seeds from the OS (getrandom). Prg::from_seed(seed, stream) expands a given seed; with a
// secret uniform seed it is as strong as the OS-seeded one (this is how per-precompute label
// seeds are expanded), and with a fixed seed it makes tests reproducible. Distinct `stream`
// values give independent streams from one seed (the stream id is the CTR nonce).
// Thread safety: none; use one Prg per thread.
#include <cstddef>
#include <cstdint>
#include <span>

#include "pinfer/core/aes.hpp"
#include "pinfer/core/block.hpp"
#include "pinfer/core/ring.hpp"

namespace pinfer {

// 128 bits from the OS random source; throws IoError if it is unavailable.
[[nodiscard]] Block os_random_block();
// Fills `out` from the OS random source; throws IoError if it is unavailable.
void os_random_bytes(std::span<std::byte> out);

class Prg {
 public:
  // Seeded from the OS.
  Prg();
  // Secret: `seed`. Deterministic expansion of (seed, stream).
  [[nodiscard]] static Prg from_seed(const Block& seed, uint64_t stream = 0);

  ~Prg();
  Prg(Prg&&) noexcept = default;
  Prg& operator=(Prg&&) noexcept = default;
  Prg(const Prg&) = delete;
  Prg& operator=(const Prg&) = delete;

  void fill_blocks(std::span<Block> out) noexcept;
  void fill_bytes(std::span<std::byte> out) noexcept;
  [[nodiscard]] Block next_block() noexcept;
  [[nodiscard]] uint64_t next_u64() noexcept;
  // Uniform elements of Z_2^l.
  void fill_ring(const Ring& ring, std::span<uint64_t> out) noexcept;
  // Uniform bits, one per byte (0 or 1).
  void fill_bits(std::span<uint8_t> out) noexcept;
  // Uniform in [0, bound); Requires: bound > 0. Rejection sampling, no modulo bias.
  [[nodiscard]] uint64_t uniform_below(uint64_t bound) noexcept;

  // Blocks produced so far (the CTR position).
  [[nodiscard]] uint64_t position() const noexcept { return counter_ - (kBuffer - used_); }

 private:
  Prg(const Block& seed, uint64_t stream);
  void refill() noexcept;

  static constexpr std::size_t kBuffer = 64;  // blocks kept for small requests
  Aes128 aes_;
  uint64_t stream_;
  uint64_t counter_ = 0;  // next counter to encrypt
  std::size_t used_ = kBuffer;
  alignas(64) Block buffer_[kBuffer];
};

}  // namespace pinfer
