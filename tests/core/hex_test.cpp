#include "pinfer/core/hex.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>

namespace pinfer {
namespace {

TEST(Hex, EncodesLowerCaseMostSignificantNibbleFirst) {
  const std::array<std::byte, 5> b = {std::byte{0x00}, std::byte{0x01}, std::byte{0xab},
                                      std::byte{0xF0}, std::byte{0xff}};
  EXPECT_EQ(to_hex(b), "0001abf0ff");
  const std::array<unsigned char, 2> u = {0x9c, 0x3e};
  EXPECT_EQ(to_hex(u), "9c3e");
  EXPECT_EQ(to_hex(std::span<const std::byte>()), "");
}

TEST(Hex, DecodesEitherCaseAndRoundTrips) {
  std::array<std::byte, 4> out{};
  ASSERT_TRUE(from_hex("DeadBEEF", out));
  EXPECT_EQ(out[0], std::byte{0xde});
  EXPECT_EQ(out[3], std::byte{0xef});
  EXPECT_EQ(to_hex(out), "deadbeef");
  std::array<std::byte, 256> all{};
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::byte>(i);
  std::array<std::byte, 256> back{};
  ASSERT_TRUE(from_hex(to_hex(all), back));
  EXPECT_EQ(back, all);
}

TEST(Hex, RejectsWrongLengthAndNonDigits) {
  std::array<std::byte, 2> out{};
  EXPECT_FALSE(from_hex("abc", out));
  EXPECT_FALSE(from_hex("abcdef", out));
  EXPECT_FALSE(from_hex("", out));
  EXPECT_FALSE(from_hex("abcg", out));
  EXPECT_FALSE(from_hex("ab c", out));
  EXPECT_FALSE(from_hex("0x12", out));
  EXPECT_EQ(hex_digit_value('7'), 7);
  EXPECT_EQ(hex_digit_value('F'), 15);
  EXPECT_EQ(hex_digit_value('g'), -1);
  EXPECT_EQ(hex_digit_value(':'), -1);
}

}  // namespace
}  // namespace pinfer
