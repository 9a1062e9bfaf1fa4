#pragma once
// Randomness for simulations: arrival times are not secret, so a seeded std::mt19937_64 is
// used (reproducible across platforms, unlike the std distributions, whose algorithms are
// implementation-defined; the transforms below are written out).
#include <cstdint>
#include <random>

namespace pinfer::sim {

// SplitMix64 finaliser: derives independent, well-mixed seeds for (seed, stream...) tuples.
[[nodiscard]] uint64_t mix_seed(uint64_t seed, uint64_t stream) noexcept;

class SimRandom {
 public:
  explicit SimRandom(uint64_t seed) : gen_(seed) {}

  // Uniform in [0, 1) with 53 random bits.
  [[nodiscard]] double uniform() noexcept;
  // Exponential with the given rate (> 0): inverse transform -log(1 - U) / rate.
  [[nodiscard]] double exponential(double rate) noexcept;

 private:
  std::mt19937_64 gen_;
};

}  // namespace pinfer::sim
