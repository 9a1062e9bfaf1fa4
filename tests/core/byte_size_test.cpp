#include "pinfer/core/byte_size.hpp"

#include <gtest/gtest.h>

#include <string>

#include "../expect_message.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

TEST(ByteSize, ParsesDecimalAndBinaryUnits) {
  EXPECT_EQ(parse_byte_size("16GB", "f"), 16'000'000'000ULL);
  EXPECT_EQ(parse_byte_size("500MB", "f"), 500'000'000ULL);
  EXPECT_EQ(parse_byte_size("100MB", "f"), 100'000'000ULL);
  EXPECT_EQ(parse_byte_size("1.5GB", "f"), 1'500'000'000ULL);
  EXPECT_EQ(parse_byte_size("1.5 tb", "f"), 1'500'000'000'000ULL);
  EXPECT_EQ(parse_byte_size("1GiB", "f"), 1073741824ULL);
  EXPECT_EQ(parse_byte_size("2GiB", "f"), 2147483648ULL);
  EXPECT_EQ(parse_byte_size("3kib", "f"), 3072ULL);
  EXPECT_EQ(parse_byte_size("2PB", "f"), 2'000'000'000'000'000ULL);
  EXPECT_EQ(parse_byte_size("123", "f"), 123u);
  EXPECT_EQ(parse_byte_size(" 7 B ", "f"), 7u);
  EXPECT_EQ(parse_byte_size("0", "f"), 0u);
  EXPECT_EQ(parse_byte_size("0.4", "f"), 0u);  // rounded to the nearest byte
  EXPECT_EQ(parse_byte_size("0.6", "f"), 1u);
}

// Each error names the field, the text and what was expected.
void expect_rejected(const std::string& text, const std::string& expected) {
  const std::string msg =
      test_support::message_of<InvalidArgument>([&] { (void)parse_byte_size(text, "--capacity"); });
  EXPECT_NE(msg.find("--capacity"), std::string::npos) << msg;
  std::string quoted = "\"";  // (built in steps: g++ 12 misreads "\"" + s + "\"" at -O3)
  quoted.append(text).append("\"");
  EXPECT_NE(msg.find(quoted), std::string::npos) << msg;
  EXPECT_NE(msg.find(expected), std::string::npos) << msg;
}

TEST(ByteSize, RejectsEmptyAndNonNumbers) {
  expect_rejected("", "a size such as 16GB");
  expect_rejected("   ", "a size such as 16GB");
  expect_rejected("GB", "a size such as 16GB");
  expect_rejected("nan", "a size such as 16GB");
  expect_rejected("inf", "a size such as 16GB");
}

TEST(ByteSize, RejectsNegativeSizes) {
  expect_rejected("-1GB", "a size between 0 and 9 EB");
  expect_rejected("-0.6", "a size between 0 and 9 EB");
}

TEST(ByteSize, RejectsOverflow) {
  expect_rejected("10000PB", "a size between 0 and 9 EB");
  expect_rejected("1e30", "a size between 0 and 9 EB");
  expect_rejected("9000000TiB", "a size between 0 and 9 EB");
  EXPECT_EQ(parse_byte_size("9000PB", "f"), 9'000'000'000'000'000'000ULL);
}

TEST(ByteSize, RejectsUnknownUnits) {
  expect_rejected("16XB", "a unit B, KB, MB, GB, TB, PB, KiB, MiB, GiB or TiB");
  expect_rejected("16 G", "a unit B");
  expect_rejected("16GBs", "a unit B");
  expect_rejected("1,5GB", "a unit B");
}

TEST(ByteSize, FormatsWithDecimalUnits) {
  EXPECT_EQ(format_byte_size(16e9), "16 GB");
  EXPECT_EQ(format_byte_size(10.17e9), "10.17 GB");
  EXPECT_EQ(format_byte_size(999), "999 B");
  EXPECT_EQ(format_byte_size(1000), "1 KB");
  EXPECT_EQ(format_byte_size(2.5e18), "2500 PB");
  EXPECT_EQ(format_byte_size(0), "0 B");
}

}  // namespace
}  // namespace pinfer
