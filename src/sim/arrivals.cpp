#include "pinfer/sim/arrivals.hpp"

#include <cmath>
#include <sstream>

#include "pinfer/core/error.hpp"

namespace pinfer::sim {
namespace {

constexpr double kMaxExpectedArrivals = 5e7;

}  // namespace

uint64_t client_arrival_seed(uint64_t run_seed, uint32_t client) noexcept {
  return client == 0 ? run_seed : mix_seed(run_seed, client);
}

PoissonArrivals::PoissonArrivals(double rate_per_s, uint64_t run_seed, uint32_t client)
    : rng_(client_arrival_seed(run_seed, client)), rate_per_s_(rate_per_s) {
  if (!(rate_per_s > 0.0) || std::isinf(rate_per_s)) {
    std::ostringstream os;
    os << "arrival rate " << rate_per_s << " requests/s must be finite and > 0";
    throw InvalidArgument(os.str());
  }
}

std::vector<double> poisson_arrival_times(double rate_per_s, uint64_t seed, uint32_t client,
                                          double horizon_s) {
  PoissonArrivals gen(rate_per_s, seed, client);
  if (!(horizon_s >= 0.0) || std::isinf(horizon_s)) {
    std::ostringstream os;
    os << "arrival horizon " << horizon_s << " s must be finite and >= 0";
    throw InvalidArgument(os.str());
  }
  if (rate_per_s * horizon_s > kMaxExpectedArrivals) {
    std::ostringstream os;
    os << "arrival rate " << rate_per_s << " requests/s over " << horizon_s
       << " s expects more than " << kMaxExpectedArrivals << " requests";
    throw InvalidArgument(os.str());
  }
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(rate_per_s * horizon_s * 1.1) + 16);
  for (double t = gen.next(); t < horizon_s; t = gen.next()) times.push_back(t);
  return times;
}

}  // namespace pinfer::sim
