#include "he/sampling.hpp"

#include <vector>

namespace pinfer::he::detail {
namespace {
constexpr std::size_t kChunk = 512;
}

void sample_ternary(Prg& prg, std::span<int8_t> out) {
  uint64_t buf[kChunk];
  for (std::size_t i = 0; i < out.size(); i += kChunk) {
    const std::size_t n = std::min(kChunk, out.size() - i);
    prg.fill_bytes(std::as_writable_bytes(std::span<uint64_t>(buf, n)));
    for (std::size_t j = 0; j < n; ++j) {
      const auto v = static_cast<uint64_t>((static_cast<unsigned __int128>(buf[j]) * 3) >> 64);
      out[i + j] = static_cast<int8_t>(static_cast<int>(v) - 1);
    }
  }
}

void sample_cbd21(Prg& prg, std::span<int8_t> out) {
  uint64_t buf[kChunk];
  constexpr uint64_t kMask21 = (uint64_t{1} << 21) - 1;
  for (std::size_t i = 0; i < out.size(); i += kChunk) {
    const std::size_t n = std::min(kChunk, out.size() - i);
    prg.fill_bytes(std::as_writable_bytes(std::span<uint64_t>(buf, n)));
    for (std::size_t j = 0; j < n; ++j) {
      const int a = __builtin_popcountll(buf[j] & kMask21);
      const int b = __builtin_popcountll((buf[j] >> 21) & kMask21);
      out[i + j] = static_cast<int8_t>(a - b);
    }
  }
}

void sample_uniform_mod(Prg& prg, uint64_t p, std::span<uint64_t> out) {
  unsigned bits = 0;
  while ((p >> bits) != 0) ++bits;
  const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  uint64_t buf[kChunk];
  std::size_t filled = 0;
  while (filled < out.size()) {
    const std::size_t want = std::min(kChunk, out.size() - filled);
    prg.fill_bytes(std::as_writable_bytes(std::span<uint64_t>(buf, want)));
    for (std::size_t j = 0; j < want; ++j) {
      const uint64_t v = buf[j] & mask;
      out[filled] = v;
      filled += v < p ? 1 : 0;  // rejection: the values are public once used (uniform a)
    }
  }
}

}  // namespace pinfer::he::detail
