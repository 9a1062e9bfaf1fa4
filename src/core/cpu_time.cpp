#include "pinfer/core/cpu_time.hpp"

#include <ctime>

namespace pinfer {

double thread_cpu_seconds() noexcept {
  timespec ts{};
  // Cannot fail for the calling thread's own clock on Linux; 0 keeps callers total if it did.
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0.0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace pinfer
