#include "pinfer/core/ring.hpp"

#include <cmath>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer {

Ring::Ring(unsigned bits) : bits_(bits), mask_(0) {
  if (bits < 1 || bits > 64) {
    throw InvalidArgument("ring bit width " + std::to_string(bits) + " is outside 1..64");
  }
  mask_ = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
}

FixedPoint::FixedPoint(Ring ring, unsigned frac_bits) : ring_(ring), frac_bits_(frac_bits) {
  if (frac_bits >= ring.bits()) {
    throw InvalidArgument("fractional bits " + std::to_string(frac_bits) +
                          " must be below ring bits " + std::to_string(ring.bits()));
  }
}

uint64_t FixedPoint::encode(double x) const {
  if (!std::isfinite(x)) throw InvalidArgument("fixed-point encode of a non-finite value");
  const double scaled = std::nearbyint(std::ldexp(x, static_cast<int>(frac_bits_)));
  const double limit = std::ldexp(1.0, static_cast<int>(ring_.bits()) - 1);
  if (scaled < -limit || scaled >= limit) {
    throw InvalidArgument("fixed-point value " + std::to_string(x) + " does not fit l=" +
                          std::to_string(ring_.bits()) + " f=" + std::to_string(frac_bits_));
  }
  return ring_.from_signed(static_cast<int64_t>(scaled));
}

double FixedPoint::decode(uint64_t v) const noexcept {
  return decode_at_scale(v, frac_bits_);
}

double FixedPoint::decode_at_scale(uint64_t v, unsigned scale_bits) const noexcept {
  return std::ldexp(static_cast<double>(ring_.to_signed(v)), -static_cast<int>(scale_bits));
}

}  // namespace pinfer
