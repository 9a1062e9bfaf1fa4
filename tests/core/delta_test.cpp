#include "pinfer/core/delta.hpp"

#include <gtest/gtest.h>

#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

TEST(Delta, RandomOffsetsHaveLsbOneAndDiffer) {
  for (int i = 0; i < 64; ++i) EXPECT_TRUE(Delta::random().block().lsb());
  // 127 random bits: two draws never coincide, and the other bits are not all fixed.
  const Delta a = Delta::random(), b = Delta::random();
  EXPECT_NE(a.block(), b.block());
  EXPECT_NE(a.block().hi, b.block().hi);
}

TEST(Delta, FromBlockKeepsTheValueAndRefusesLsbZero) {
  const Delta d = Delta::from_block(Block(0x1235, 0xabcd));
  EXPECT_EQ(d.block(), Block(0x1235, 0xabcd));
  const Block& as_block = d;  // what the kernels take
  EXPECT_EQ(as_block, Block(0x1235, 0xabcd));
  EXPECT_THROW((void)Delta::from_block(Block(2, 5)), InvalidArgument);
  EXPECT_THROW((void)Delta::from_block(Block()), InvalidArgument);
}

TEST(Delta, LabelsOfAWireDifferInTheirColourBit) {
  const Delta d = Delta::random();
  const Block zero(0x9876, 0x5432);
  EXPECT_NE((zero ^ d).lsb(), zero.lsb());
}

}  // namespace
}  // namespace pinfer
