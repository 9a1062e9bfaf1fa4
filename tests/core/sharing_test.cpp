#include "pinfer/core/sharing.hpp"

#include <gtest/gtest.h>

#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

TEST(Sharing, ReconstructsTheSecretAtSeveralWidths) {
  for (unsigned l : {1u, 32u, 37u, 64u}) {
    const Ring r(l);
    Prg data = Prg::from_seed(Block(l, 7));
    RingTensor x(Shape{1, 4, 8, 8});
    data.fill_ring(r, x.span());
    Prg prg;  // OS-seeded, as in production
    const SharedTensor s = share(r, x, prg);
    EXPECT_EQ(reconstruct(r, s.masked, s.mask), x) << "l=" << l;
    EXPECT_EQ(s.masked.shape(), x.shape());
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_LE(s.mask[i], r.mask());
      EXPECT_LE(s.masked[i], r.mask());
    }
    if (l >= 32) {
      // 256 uniform masks of >= 32 bits: equal to x everywhere only with probability 2^-8192.
      EXPECT_NE(s.masked, x);
      EXPECT_NE(s.mask, x);
    }
  }
}

TEST(Sharing, UnreducedInputIsReducedFirst) {
  const Ring r(16);
  const RingTensor x(Shape{2}, {0x12345, 0xffff0001});
  Prg prg = Prg::from_seed(Block(1, 2));
  const SharedTensor s = share(r, x, prg);
  EXPECT_EQ(reconstruct(r, s.masked, s.mask).values(), (std::vector<uint64_t>{0x2345, 0x0001}));
}

TEST(Sharing, FreshMasksDifferBetweenSharings) {
  const Ring r(37);
  const RingTensor x(Shape{64});
  Prg prg = Prg::from_seed(Block(3, 4));
  const SharedTensor a = share(r, x, prg);
  const SharedTensor b = share(r, x, prg);
  EXPECT_NE(a.mask, b.mask);
}

TEST(Sharing, ShapeMismatchIsInvalidArgument) {
  const Ring r(37);
  EXPECT_THROW((void)reconstruct(r, RingTensor(Shape{2}), RingTensor(Shape{3})), InvalidArgument);
}

}  // namespace
}  // namespace pinfer
