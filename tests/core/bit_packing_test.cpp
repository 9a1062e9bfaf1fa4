// Bit packing (pinfer/core/bit_packing.hpp) against bit-by-bit references: fixed-width values for
// every width and counts that end inside, at and past the fast path's last full load, and 0/1
// values around the 16-at-a-time path.
#include "pinfer/core/bit_packing.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer {
namespace {

std::vector<std::byte> reference_pack(const std::vector<uint64_t>& v, unsigned bits) {
  std::vector<std::byte> out((v.size() * bits + 7) / 8);
  for (std::size_t i = 0; i < v.size(); ++i) {
    for (unsigned b = 0; b < bits; ++b) {
      const std::size_t bit = i * bits + b;
      if ((v[i] >> b) & 1) out[bit / 8] |= static_cast<std::byte>(1u << (bit % 8));
    }
  }
  return out;
}

TEST(BitPacking, ValuesMatchBitByBitReferenceForEveryWidth) {
  Prg prg = Prg::from_seed(Block(3, 4));
  for (unsigned bits = 1; bits <= 64; ++bits) {
    for (const std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7},
                                    std::size_t{9}, std::size_t{64}, std::size_t{1001}}) {
      std::vector<uint64_t> v(count);
      for (auto& x : v) x = prg.next_u64();  // high bits beyond `bits` must be ignored
      const auto want = reference_pack(v, bits);
      ASSERT_EQ(packed_size_bytes(count, bits), want.size());
      std::vector<std::byte> got(want.size());
      pack_values(v, bits, got);
      ASSERT_EQ(got, want) << "bits " << bits << " count " << count;
      std::vector<uint64_t> back(count);
      unpack_values(got, bits, back);
      const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
      for (std::size_t i = 0; i < count; ++i) {
        ASSERT_EQ(back[i], v[i] & mask) << "bits " << bits << " count " << count << " i " << i;
      }
    }
  }
}

TEST(BitPacking, WriterAndReaderStreamMixedWidths) {
  Prg prg = Prg::from_seed(Block(5, 6));
  std::vector<unsigned> widths;
  std::vector<uint64_t> values;
  std::size_t total_bits = 0;
  for (int i = 0; i < 500; ++i) {
    widths.push_back(static_cast<unsigned>(prg.uniform_below(65)));  // 0..64
    const unsigned w = widths.back();
    values.push_back(w == 0 ? 0
                            : prg.next_u64() & (w == 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1));
    total_bits += w;
  }
  std::vector<std::byte> want((total_bits + 7) / 8);
  std::size_t at = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (unsigned b = 0; b < widths[i]; ++b, ++at) {
      if ((values[i] >> b) & 1) want[at / 8] |= static_cast<std::byte>(1u << (at % 8));
    }
  }
  std::vector<std::byte> got(want.size());
  BitWriter w(got.data());
  for (std::size_t i = 0; i < values.size(); ++i) w.put(values[i], widths[i]);
  w.flush();
  ASSERT_EQ(got, want);
  BitReader r(got.data(), got.size());
  for (std::size_t i = 0; i < values.size(); ++i) ASSERT_EQ(r.get(widths[i]), values[i]) << i;
  EXPECT_EQ(r.get(64), 0u);  // past the end reads zeros
}

TEST(BitPacking, ZeroOneValuesPackEightToAByteLsbFirst) {
  Prg prg = Prg::from_seed(Block(7, 8));
  for (const std::size_t n : {0u, 1u, 7u, 8u, 15u, 16u, 17u, 31u, 33u, 1000u}) {
    std::vector<uint8_t> bits(n);
    prg.fill_bits(bits);
    std::vector<std::byte> want((n + 7) / 8 + 3);  // three spare bytes: zeroed by pack_bits
    for (std::size_t j = 0; j < n; ++j) {
      if (bits[j]) want[j / 8] |= static_cast<std::byte>(1u << (j % 8));
    }
    std::vector<std::byte> got(want.size(), std::byte{0xff});
    pack_bits(bits, got);
    EXPECT_EQ(got, want) << n;
    EXPECT_EQ(pack_bits(bits), std::vector<std::byte>(want.begin(), want.end() - 3)) << n;
    std::vector<uint8_t> back(n);
    unpack_bits(got, back);
    EXPECT_EQ(back, bits) << n;
  }
}

TEST(BitPacking, WordsToAndFromBits) {
  std::vector<uint8_t> bits(13);
  word_to_bits(0x1A5Bu, bits);  // 1 1010 0101 1011, low 13 bits
  EXPECT_EQ(bits, (std::vector<uint8_t>{1, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1}));
  EXPECT_EQ(word_from_bits(bits), 0x1A5Bu);
  std::vector<uint8_t> all(64);
  word_to_bits(~uint64_t{0}, all);
  EXPECT_EQ(word_from_bits(all), ~uint64_t{0});
}

TEST(BitPacking, PackedSizeOverflowIsFormatError) {
  EXPECT_EQ(packed_size_bytes(10, 3), 4u);
  EXPECT_THROW((void)packed_size_bytes(UINT64_MAX / 2, 64), FormatError);
}

}  // namespace
}  // namespace pinfer
