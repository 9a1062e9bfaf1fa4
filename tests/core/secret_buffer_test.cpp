#include "pinfer/core/secret_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "pinfer/core/block.hpp"

namespace pinfer {
namespace {

TEST(SecretBuffer, StartsZeroed) {
  SecretBuffer<uint64_t> b(100);
  EXPECT_EQ(b.size(), 100u);
  for (uint64_t v : b) EXPECT_EQ(v, 0u);
  EXPECT_TRUE(SecretBuffer<uint8_t>().empty());
  EXPECT_EQ(SecretBuffer<uint8_t>(0).data(), nullptr);
}

TEST(SecretBuffer, MoveTransfersOwnership) {
  SecretBuffer<Block> a(3);
  a[1] = Block(5, 6);
  const Block* p = a.data();
  SecretBuffer<Block> b(std::move(a));
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b[1], Block(5, 6));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(a.data(), nullptr);
  SecretBuffer<Block> c(1);
  c = std::move(b);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c[1], Block(5, 6));
}

TEST(SecretBuffer, CloneIsADeepCopy) {
  SecretBuffer<uint32_t> a(4);
  for (uint32_t i = 0; i < 4; ++i) a[i] = i * 7;
  SecretBuffer<uint32_t> b = a.clone();
  EXPECT_NE(a.data(), b.data());
  b[0] = 99;
  EXPECT_EQ(a[0], 0u);
  EXPECT_EQ(b[3], 21u);
}

TEST(SecretBuffer, ResetEmpties) {
  SecretBuffer<uint8_t> a(16);
  a.reset();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.span().size(), 0u);
}

TEST(SecureWipe, ZeroesTheBytes) {
  unsigned char key[32];
  std::memset(key, 0xa5, sizeof key);
  secure_wipe(key, sizeof key);
  for (unsigned char c : key) EXPECT_EQ(c, 0);
  secure_wipe(nullptr, 10);  // tolerated
  secure_wipe(key, 0);
}

}  // namespace
}  // namespace pinfer
