#include "pinfer/core/tensor.hpp"

#include <gtest/gtest.h>

#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

TEST(Shape, NumelAndToString) {
  EXPECT_EQ((Shape{1, 3, 32, 32}).numel(), 3072u);
  EXPECT_EQ((Shape{1, 3, 32, 32}).to_string(), "1x3x32x32");
  EXPECT_EQ(Shape{}.numel(), 1u);
  EXPECT_EQ(Shape{}.to_string(), "scalar");
  EXPECT_EQ((Shape{4, 0, 2}).numel(), 0u);
}

TEST(Shape, OverflowingElementCountIsInvalidArgument) {
  const Shape huge{uint64_t{1} << 32, uint64_t{1} << 32};
  EXPECT_THROW((void)huge.numel(), InvalidArgument);
  EXPECT_THROW(RingTensor{huge}, InvalidArgument);
}

TEST(Tensor, NchwIndexingIsRowMajor) {
  RingTensor t(Shape{2, 3, 4, 5});
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = i;
  EXPECT_EQ(t.at(0, 0, 0, 0), 0u);
  EXPECT_EQ(t.at(0, 0, 0, 4), 4u);
  EXPECT_EQ(t.at(0, 0, 1, 0), 5u);
  EXPECT_EQ(t.at(0, 1, 0, 0), 20u);
  EXPECT_EQ(t.at(1, 2, 3, 4), 119u);
}

TEST(Tensor, DataSizeMustMatchShape) {
  EXPECT_THROW(RingTensor(Shape{2, 2}, std::vector<uint64_t>(3)), InvalidArgument);
  EXPECT_NO_THROW(RingTensor(Shape{2, 2}, std::vector<uint64_t>(4)));
}

TEST(Tensor, ReshapeKeepsDataAndChecksCount) {
  RingTensor t(Shape{1, 2, 3, 4});
  t[23] = 7;
  t.reshape_inplace(Shape{1, 24});
  EXPECT_EQ(t.shape(), (Shape{1, 24}));
  EXPECT_EQ(t[23], 7u);
  EXPECT_THROW(t.reshape_inplace(Shape{5, 5}), InvalidArgument);
}

TEST(Tensor, RingAddSubWrapAndCheckShapes) {
  const Ring r(8);
  RingTensor a(Shape{3}, {250, 1, 0});
  const RingTensor b(Shape{3}, {10, 2, 1});
  EXPECT_EQ(add(r, a, b).values(), (std::vector<uint64_t>{4, 3, 1}));
  EXPECT_EQ(sub(r, a, b).values(), (std::vector<uint64_t>{240, 255, 255}));
  sub_inplace(r, a, b);
  add_inplace(r, a, b);
  EXPECT_EQ(a.values(), (std::vector<uint64_t>{250, 1, 0}));
  const RingTensor c(Shape{1, 3});
  EXPECT_THROW((void)add(r, a, c), InvalidArgument);
  EXPECT_THROW(sub_inplace(r, a, c), InvalidArgument);
}

}  // namespace
}  // namespace pinfer
