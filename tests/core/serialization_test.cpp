#include "pinfer/core/serialization.hpp"

#include <gtest/gtest.h>

#include "expect_message.hpp"

#include <string>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer {
namespace {

using test_support::message_of;

TEST(Serialization, EveryFieldRoundTripsLittleEndian) {
  ByteWriter w;
  w.u8(0xab);
  w.u16(0x1234);
  w.u32(0xdeadbeef);
  w.u64(0x0102030405060708);
  w.i64(-5);
  w.f64(-2.75);
  w.block(Block(7, 8));
  w.string("hello");
  const std::byte raw[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
  w.bytes(raw);
  EXPECT_EQ(w.size(), 1u + 2 + 4 + 8 + 8 + 8 + 16 + 4 + 5 + 3);
  EXPECT_EQ(w.data()[1], std::byte{0x34});  // little endian
  EXPECT_EQ(w.data()[2], std::byte{0x12});

  ByteReader r(w.data());
  EXPECT_EQ(r.u8("a"), 0xab);
  EXPECT_EQ(r.u16("b"), 0x1234);
  EXPECT_EQ(r.u32("c"), 0xdeadbeef);
  EXPECT_EQ(r.u64("d"), 0x0102030405060708u);
  EXPECT_EQ(r.i64("e"), -5);
  EXPECT_EQ(r.f64("f"), -2.75);
  EXPECT_EQ(r.block("g"), Block(7, 8));
  EXPECT_EQ(r.string("h", 5), "hello");
  const auto b = r.bytes(3, "i");
  EXPECT_EQ(b[2], std::byte{3});
  EXPECT_NO_THROW(r.expect_end("message"));
}

TEST(Serialization, TruncatedFieldIsFormatErrorNamingIt) {
  ByteWriter w;
  w.u32(1);
  w.u16(2);
  ByteReader r(w.data());
  EXPECT_EQ(r.u32("magic"), 1u);
  const std::string msg = message_of<FormatError>([&] { (void)r.u64("layer count"); });
  EXPECT_NE(msg.find("'layer count'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs 8 bytes, 2 left"), std::string::npos) << msg;
  ByteReader empty(std::span<const std::byte>{});
  EXPECT_THROW((void)empty.u8("x"), FormatError);
  EXPECT_THROW((void)empty.block("x"), FormatError);
  EXPECT_THROW((void)empty.bytes(1, "x"), FormatError);
}

TEST(Serialization, LengthCapIsCheckedBeforeUse) {
  ByteWriter w;
  w.u64(uint64_t{1} << 40);
  ByteReader r(w.data());
  const std::string msg = message_of<FormatError>([&] { (void)r.length("tensor bytes", 1000); });
  EXPECT_NE(msg.find("'tensor bytes' length 1099511627776 exceeds limit 1000"), std::string::npos)
      << msg;
  ByteReader ok(w.data());
  EXPECT_EQ(ok.length("tensor bytes", uint64_t{1} << 40), uint64_t{1} << 40);  // inclusive
}

TEST(Serialization, StringCapAndTruncation) {
  ByteWriter w;
  w.string("toolong");
  ByteReader r(w.data());
  EXPECT_THROW((void)r.string("name", 6), FormatError);
  ByteWriter lie;
  lie.u32(100);  // announces 100 bytes, has none
  ByteReader r2(lie.data());
  EXPECT_THROW((void)r2.string("name", 1000), FormatError);
}

TEST(Serialization, ExpectU32AndExpectEnd) {
  ByteWriter w;
  w.u32(0x50494e46);
  w.u8(0);
  ByteReader r(w.data());
  EXPECT_NO_THROW(r.expect_u32(0x50494e46, "magic"));
  EXPECT_THROW(r.expect_end("header"), FormatError);
  ByteReader r2(w.data());
  const std::string msg = message_of<FormatError>([&] { r2.expect_u32(7, "version"); });
  EXPECT_NE(msg.find("'version'"), std::string::npos) << msg;
}

TEST(Serialization, PackedBitsRoundTripForEveryWidth) {
  Prg prg = Prg::from_seed(Block(12, 34));
  for (unsigned bits = 1; bits <= 64; ++bits) {
    for (std::size_t count : {0u, 1u, 7u, 13u, 64u}) {
      std::vector<uint64_t> values(count);
      const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
      for (uint64_t& v : values) v = prg.next_u64();
      ByteWriter w;
      w.u8(0x5a);  // packing starts at an arbitrary offset
      w.packed_bits(values, bits);
      EXPECT_EQ(w.size(), 1 + packed_size_bytes(count, bits));
      EXPECT_EQ(packed_size_bytes(count, bits), (count * bits + 7) / 8);
      ByteReader r(w.data());
      EXPECT_EQ(r.u8("lead"), 0x5a);
      std::vector<uint64_t> got(count);
      r.packed_bits(got, bits, "values");
      r.expect_end("packed");
      for (std::size_t i = 0; i < count; ++i) {
        ASSERT_EQ(got[i], values[i] & mask) << "bits=" << bits << " i=" << i;
      }
    }
  }
}

// The wire layout is fixed (peers and the HE layer's own packer depend on it): bit j of value i
// is bit i * bits + j of the stream, bytes LSB first.
TEST(Serialization, PackedBitsLayoutIsLsbFirst) {
  Prg prg = Prg::from_seed(Block(56, 78));
  for (unsigned bits : {1u, 3u, 7u, 8u, 13u, 31u, 37u, 50u, 63u, 64u}) {
    std::vector<uint64_t> values(29);
    for (uint64_t& v : values) v = prg.next_u64();
    ByteWriter w;
    w.packed_bits(values, bits);
    const auto bytes = w.data();
    for (std::size_t i = 0; i < values.size(); ++i) {
      for (unsigned j = 0; j < bits; ++j) {
        const std::size_t pos = i * bits + j;
        const unsigned got = (static_cast<unsigned>(bytes[pos / 8]) >> (pos % 8)) & 1u;
        ASSERT_EQ(got, (values[i] >> j) & 1u) << "bits=" << bits << " i=" << i << " j=" << j;
      }
    }
    const std::size_t used = values.size() * bits;
    if (used % 8 != 0) {
      EXPECT_EQ(static_cast<unsigned>(bytes.back()) >> (used % 8), 0u);
    }
  }
}

TEST(Serialization, PackedBitsTruncatedAndOverflow) {
  ByteWriter w;
  const std::vector<uint64_t> v(10, 1);
  w.packed_bits(v, 3);  // 30 bits -> 4 bytes
  ByteReader r(w.data());
  std::vector<uint64_t> got(11);  // 33 bits -> 5 bytes
  EXPECT_THROW(r.packed_bits(got, 3, "relu bits"), FormatError);
  EXPECT_THROW((void)packed_size_bytes(UINT64_MAX / 2, 64), FormatError);
}

}  // namespace
}  // namespace pinfer
