#include "stream_checksum.hpp"

#include <bit>
#include <cstring>

#include "gc_avx512.hpp"
#include "pinfer/core/detail/cpu_features.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::gc::detail {
namespace {

constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;  // odd (2^64 / golden ratio)

inline uint64_t step(uint64_t h, uint64_t w) {
  return std::rotl(h ^ w, 23) * kMul;
}

// SplitMix64 finaliser, to spread every lane over the output.
inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool use_avx512() {
  static const bool use = preferred_cpu_path() == CpuPath::vaes && cpu_supports(CpuPath::vaes);
  return use;
}

}  // namespace

void checksum_lanes_portable(uint64_t lanes[8], const std::byte* p, std::size_t blocks) noexcept {
  uint64_t l0 = lanes[0], l1 = lanes[1], l2 = lanes[2], l3 = lanes[3];
  uint64_t l4 = lanes[4], l5 = lanes[5], l6 = lanes[6], l7 = lanes[7];
  for (std::size_t i = 0; i < blocks; ++i, p += 64) {
    uint64_t w[8];
    std::memcpy(w, p, 64);
    l0 = step(l0, w[0]);
    l1 = step(l1, w[1]);
    l2 = step(l2, w[2]);
    l3 = step(l3, w[3]);
    l4 = step(l4, w[4]);
    l5 = step(l5, w[5]);
    l6 = step(l6, w[6]);
    l7 = step(l7, w[7]);
  }
  lanes[0] = l0, lanes[1] = l1, lanes[2] = l2, lanes[3] = l3;
  lanes[4] = l4, lanes[5] = l5, lanes[6] = l6, lanes[7] = l7;
}

StreamChecksum::StreamChecksum() noexcept {
  for (std::size_t j = 0; j < lanes_.size(); ++j) lanes_[j] = mix(0x5047434B53554D00ull + j);
}

void StreamChecksum::update(std::span<const std::byte> bytes) noexcept {
  PINFER_ASSERT(bytes.size() % 8 == 0);
  const std::byte* p = bytes.data();
  std::size_t words = bytes.size() / 8;
  // Word by word until lane 0 is next, then 8 words (one per lane) at a time.
  while (words > 0 && (words_ & 7) != 0) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    lanes_[words_ & 7] = step(lanes_[words_ & 7], w);
    p += 8;
    --words;
    ++words_;
  }
  const std::size_t blocks = words / 8;
  if (blocks > 0) {
    if (use_avx512()) {
      checksum_lanes_avx512(lanes_.data(), p, blocks);
    } else {
      checksum_lanes_portable(lanes_.data(), p, blocks);
    }
    p += 64 * blocks;
    words -= 8 * blocks;
    words_ += 8 * blocks;
  }
  for (; words > 0; --words, p += 8, ++words_) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    lanes_[words_ & 7] = step(lanes_[words_ & 7], w);
  }
}

Block StreamChecksum::finish() const noexcept {
  uint64_t lo = mix(words_ ^ 0x4C4F4C4F4C4F4C4Full), hi = mix(words_ ^ 0x4849484948494849ull);
  for (uint64_t lane : lanes_) {
    lo = mix(lo ^ lane);
    hi = mix(hi + lane);
  }
  return Block(lo, hi);
}

}  // namespace pinfer::gc::detail
