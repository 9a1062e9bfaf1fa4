#include "pinfer/core/ring.hpp"

#include <gtest/gtest.h>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer {
namespace {

class RingWidth : public ::testing::TestWithParam<unsigned> {};

TEST_P(RingWidth, AddSubNegWrapAround) {
  const Ring r(GetParam());
  const uint64_t max = r.mask();
  EXPECT_EQ(max, GetParam() == 64 ? ~uint64_t{0} : (uint64_t{1} << GetParam()) - 1);
  EXPECT_EQ(r.add(max, 1), 0u);
  EXPECT_EQ(r.sub(0, 1), max);
  EXPECT_EQ(r.neg(1), max);
  EXPECT_EQ(r.neg(0), 0u);
  EXPECT_EQ(r.mul(max, max), 1u);  // (-1) * (-1)
  EXPECT_EQ(r.reduce(~uint64_t{0}), max);
}

TEST_P(RingWidth, SignedDecodingIsTwosComplementOfWidthL) {
  const unsigned l = GetParam();
  const Ring r(l);
  const int64_t min = l == 64 ? INT64_MIN : -(int64_t{1} << (l - 1));
  const int64_t max = l == 64 ? INT64_MAX : (int64_t{1} << (l - 1)) - 1;
  EXPECT_EQ(r.to_signed(r.mask()), -1);
  EXPECT_EQ(r.to_signed(0), 0);
  EXPECT_EQ(r.to_signed(r.from_signed(min)), min);
  EXPECT_EQ(r.to_signed(r.from_signed(max)), max);
  EXPECT_EQ(r.msb(r.from_signed(min)), 1u);
  EXPECT_EQ(r.msb(r.from_signed(max)), 0u);
  EXPECT_EQ(r.from_signed(-1), r.mask());
  // max + 1 wraps to min.
  EXPECT_EQ(r.to_signed(r.add(r.from_signed(max), 1)), min);
  Prg prg = Prg::from_seed(Block(l, 1));
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = r.reduce(prg.next_u64());
    EXPECT_EQ(r.from_signed(r.to_signed(v)), v);
    EXPECT_GE(r.to_signed(v), min);
    EXPECT_LE(r.to_signed(v), max);
    EXPECT_EQ(r.msb(v), r.to_signed(v) < 0 ? 1u : 0u);
  }
}

// floor(x / 2^s) computed exactly in 128 bits.
int64_t floor_shift(int64_t x, unsigned s) {
  const __int128 d = static_cast<__int128>(1) << s;
  __int128 q = static_cast<__int128>(x) / d;
  if (static_cast<__int128>(x) % d != 0 && x < 0) --q;
  return static_cast<int64_t>(q);
}

TEST_P(RingWidth, ShiftRightArithIsFloorDivision) {
  const unsigned l = GetParam();
  const Ring r(l);
  Prg prg = Prg::from_seed(Block(l, 2));
  for (unsigned s = 0; s < l; ++s) {
    for (int i = 0; i < 50; ++i) {
      const uint64_t v = r.reduce(prg.next_u64());
      const int64_t x = r.to_signed(v);
      EXPECT_EQ(r.to_signed(r.shift_right_arith(v, s)), floor_shift(x, s))
          << "l=" << l << " s=" << s << " x=" << x;
    }
  }
  if (l >= 3) {
    EXPECT_EQ(r.to_signed(r.shift_right_arith(r.from_signed(-5), 1)), -3);  // floor(-2.5)
    EXPECT_EQ(r.to_signed(r.shift_right_arith(r.from_signed(-1), 2)), -1);
    EXPECT_EQ(r.to_signed(r.shift_right_arith(r.from_signed(3), 1)), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Widths, RingWidth, ::testing::Values(1u, 32u, 37u, 64u));

TEST(Ring, WidthOutsideOneToSixtyFourIsInvalidArgument) {
  EXPECT_THROW(Ring(0), InvalidArgument);
  EXPECT_THROW(Ring(65), InvalidArgument);
  EXPECT_EQ(Ring(37), Ring(37));
  EXPECT_FALSE(Ring(37) == Ring(38));
}

}  // namespace
}  // namespace pinfer
