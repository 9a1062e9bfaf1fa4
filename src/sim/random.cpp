#include "pinfer/sim/random.hpp"

#include <cmath>

namespace pinfer::sim {

uint64_t mix_seed(uint64_t seed, uint64_t stream) noexcept {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double SimRandom::uniform() noexcept {
  return static_cast<double>(gen_() >> 11) * 0x1.0p-53;
}

double SimRandom::exponential(double rate) noexcept {
  // 1 - U is in (0, 1], so the logarithm is finite.
  return -std::log1p(-uniform()) / rate;
}

}  // namespace pinfer::sim
