#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/ring.hpp"

namespace pinfer {
namespace {

TEST(FixedPoint, RoundTripWithinHalfAnUlp) {
  for (const auto& [l, f] : {std::pair{37u, 12u}, std::pair{64u, 20u}, std::pair{32u, 8u}}) {
    const FixedPoint fp(Ring(l), f);
    const double ulp = std::ldexp(1.0, -static_cast<int>(f));
    Prg prg = Prg::from_seed(Block(l, f));
    for (int i = 0; i < 1000; ++i) {
      // Values in [-1000, 1000): well inside every range above.
      const double x = (static_cast<double>(prg.next_u64() >> 11) * 0x1p-53 - 0.5) * 2000;
      const uint64_t v = fp.encode(x);
      EXPECT_LE(v, fp.ring().mask());
      EXPECT_LE(std::abs(fp.decode(v) - x), ulp / 2) << "l=" << l << " f=" << f << " x=" << x;
    }
  }
}

TEST(FixedPoint, EncodesExactlyAndRoundsToNearest) {
  const FixedPoint fp(Ring(37), 12);
  EXPECT_EQ(fp.encode(1.0), 4096u);
  EXPECT_EQ(fp.encode(-1.0), fp.ring().mask() - 4095);
  EXPECT_EQ(fp.decode(fp.encode(-2.5)), -2.5);
  EXPECT_EQ(fp.encode(1.0 + 0.6 / 4096), 4097u);
  EXPECT_EQ(fp.encode(1.0 + 0.4 / 4096), 4096u);
  EXPECT_EQ(fp.decode(fp.encode(0.0)), 0.0);
}

TEST(FixedPoint, ProductDecodesAtDoubleScale) {
  const FixedPoint fp(Ring(37), 12);
  const Ring& r = fp.ring();
  const uint64_t p = r.mul(fp.encode(-1.5), fp.encode(2.25));
  EXPECT_EQ(fp.decode_at_scale(p, 24), -3.375);
}

TEST(FixedPoint, ExtremesOfTheSignedRange) {
  const FixedPoint fp(Ring(37), 12);
  const double limit = std::ldexp(1.0, 36 - 12);
  EXPECT_EQ(fp.decode(fp.encode(-limit)), -limit);
  EXPECT_THROW((void)fp.encode(limit), InvalidArgument);
  EXPECT_NO_THROW((void)fp.encode(limit - 1.0 / 4096));
}

TEST(FixedPoint, InvalidInputsAreInvalidArgument) {
  const FixedPoint fp(Ring(37), 12);
  EXPECT_THROW((void)fp.encode(std::numeric_limits<double>::quiet_NaN()), InvalidArgument);
  EXPECT_THROW((void)fp.encode(std::numeric_limits<double>::infinity()), InvalidArgument);
  EXPECT_THROW((void)fp.encode(1e30), InvalidArgument);
  EXPECT_THROW(FixedPoint(Ring(16), 16), InvalidArgument);
}

}  // namespace
}  // namespace pinfer
