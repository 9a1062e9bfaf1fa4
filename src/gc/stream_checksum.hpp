#pragma once
// Fast 128-bit checksum of garbled-stream bytes, to detect storage and transport corruption.
//
// Not cryptographic and not a MAC: anyone can recompute it. Eight independent 64-bit lanes take
// consecutive words, each step h <- rotl(h ^ w, 23) * K with K odd, a bijection of h for every
// w; so changing any single word always changes its lane's final state, and a random change
// of several words goes undetected with probability about 2^-64 per lane. Eight lanes keep the
// multiply latency hidden (~10 bytes per cycle); with AVX-512 the 8 lanes are one register.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "pinfer/core/block.hpp"

namespace pinfer::gc::detail {

class StreamChecksum {
 public:
  StreamChecksum() noexcept;
  // Requires: bytes.size() is a multiple of 8 (all stream fields are).
  void update(std::span<const std::byte> bytes) noexcept;
  [[nodiscard]] Block finish() const noexcept;

 private:
  std::array<uint64_t, 8> lanes_;
  uint64_t words_ = 0;
};

// The lane update over whole 64-byte blocks (the scalar twin of checksum_lanes_avx512).
void checksum_lanes_portable(uint64_t lanes[8], const std::byte* p, std::size_t blocks) noexcept;

}  // namespace pinfer::gc::detail
