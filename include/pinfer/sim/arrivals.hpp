#pragma once
// Poisson request arrivals, replayable outside the simulator: a real load run (`pinfer bench
// arrivals`) calls poisson_arrival_times with the seed and client index of a simulated run and
// gets exactly the arrival times the simulator uses for that client.
//
// Client c of a run with seed s draws inter-arrival times from std::mt19937_64 seeded with
// client_arrival_seed(s, c): s itself for client 0 (so a one-client run keeps the arrival
// sequence the simulator has always used for seed s) and mix_seed(s, c) for c >= 1. Times are
// running sums t_{n+1} = t_n + Exp(rate), t_0 = 0, with the inverse transform of random.hpp.
// In a sweep, the run seed s of run r at rate index i is mix_seed(sweep seed, i * 2^20 + r).
#include <cstdint>
#include <vector>

#include "pinfer/sim/random.hpp"

namespace pinfer::sim {

[[nodiscard]] uint64_t client_arrival_seed(uint64_t run_seed, uint32_t client) noexcept;

// The arrival stream of one client: next() returns successive arrival times in seconds from 0.
class PoissonArrivals {
 public:
  // Throws InvalidArgument unless rate_per_s is finite and > 0.
  PoissonArrivals(double rate_per_s, uint64_t run_seed, uint32_t client);
  [[nodiscard]] double next() noexcept {
    t_s_ = t_s_ + rng_.exponential(rate_per_s_);
    return t_s_;
  }

 private:
  SimRandom rng_;
  double rate_per_s_;
  double t_s_ = 0.0;
};

// Every arrival time of client `client` strictly below horizon_s. Throws InvalidArgument for a
// bad rate or horizon, or when more than 5e7 arrivals are expected (rate * horizon).
[[nodiscard]] std::vector<double> poisson_arrival_times(double rate_per_s, uint64_t seed,
                                                        uint32_t client, double horizon_s);

}  // namespace pinfer::sim
