#include "pinfer/core/prg.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace pinfer {
namespace {

std::vector<Block> blocks(Prg& prg, std::size_t n) {
  std::vector<Block> v(n);
  prg.fill_blocks(v);
  return v;
}

TEST(Prg, SameSeedAndStreamGiveTheSameOutput) {
  Prg a = Prg::from_seed(Block(1, 2), 5);
  Prg b = Prg::from_seed(Block(1, 2), 5);
  EXPECT_EQ(blocks(a, 1000), blocks(b, 1000));
}

TEST(Prg, DistinctSeedsAndStreamsGiveDistinctOutput) {
  Prg base = Prg::from_seed(Block(1, 2), 0);
  Prg other_seed = Prg::from_seed(Block(1, 3), 0);
  Prg other_stream = Prg::from_seed(Block(1, 2), 1);
  const auto x = blocks(base, 100);
  const auto y = blocks(other_seed, 100);
  const auto z = blocks(other_stream, 100);
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NE(x[i], y[i]);
    EXPECT_NE(x[i], z[i]);
  }
}

TEST(Prg, IsAesCounterModeWithTheStreamAsNonce) {
  const Block seed(0xabc, 0xdef);
  Prg prg = Prg::from_seed(seed, 9);
  const auto out = blocks(prg, 130);
  const Aes128 aes(seed);
  std::vector<Block> in(130), want(130);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = Block(i, 9);
  aes.encrypt_ecb_with(CpuPath::openssl, in, want);
  EXPECT_EQ(out, want);
}

TEST(Prg, OutputIsIndependentOfHowRequestsAreSplit) {
  const Block seed(42, 43);
  Prg whole = Prg::from_seed(seed);
  const auto want = blocks(whole, 1000);

  Prg one_by_one = Prg::from_seed(seed);
  std::vector<Block> got;
  for (int i = 0; i < 1000; ++i) got.push_back(one_by_one.next_block());
  EXPECT_EQ(got, want);

  // Mixed sizes around the internal 64-block buffer.
  Prg mixed = Prg::from_seed(seed);
  got.clear();
  const std::size_t sizes[] = {1, 63, 64, 65, 7, 128, 200, 3, 129, 340};
  for (std::size_t n : sizes) {
    const auto part = blocks(mixed, n);
    got.insert(got.end(), part.begin(), part.end());
  }
  ASSERT_EQ(got.size(), 1000u);
  EXPECT_EQ(got, want);
  EXPECT_EQ(mixed.position(), 1000u);

  // Bytes, aligned and unaligned, give the same stream.
  Prg bytes_aligned = Prg::from_seed(seed);
  alignas(16) std::byte aligned[1000 * 16];
  bytes_aligned.fill_bytes(aligned);
  EXPECT_EQ(std::memcmp(aligned, want.data(), sizeof aligned), 0);
  Prg bytes_unaligned = Prg::from_seed(seed);
  std::vector<std::byte> storage(1000 * 16 + 1);
  bytes_unaligned.fill_bytes(std::span(storage).subspan(1));
  EXPECT_EQ(std::memcmp(storage.data() + 1, want.data(), 1000 * 16), 0);
}

TEST(Prg, FillBytesTailConsumesAWholeBlock) {
  Prg a = Prg::from_seed(Block(5, 6));
  std::byte b[20];
  a.fill_bytes(b);
  EXPECT_EQ(a.position(), 2u);
}

TEST(Prg, FillRingStaysBelowTwoToTheL) {
  for (unsigned l : {1u, 17u, 37u, 63u, 64u}) {
    const Ring r(l);
    Prg prg = Prg::from_seed(Block(l, 0));
    std::vector<uint64_t> v(4096);
    prg.fill_ring(r, v);
    uint64_t seen_or = 0;
    for (uint64_t x : v) {
      EXPECT_LE(x, r.mask());
      seen_or |= x;
    }
    EXPECT_EQ(seen_or, r.mask()) << "every bit below l should occur, l=" << l;
  }
}

TEST(Prg, FillBitsAreTheBitsOfTheStream) {
  const Block seed(8, 9);
  Prg bits_prg = Prg::from_seed(seed);
  std::vector<uint8_t> bits(300);
  bits_prg.fill_bits(bits);
  Prg block_prg = Prg::from_seed(seed);
  const auto b = blocks(block_prg, 3);
  for (std::size_t i = 0; i < bits.size(); ++i) {
    const Block& blk = b[i / 128];
    const std::size_t k = i % 128;
    const uint64_t word = k < 64 ? blk.lo : blk.hi;
    EXPECT_EQ(bits[i], (word >> (k % 64)) & 1) << i;
  }
}

TEST(Prg, UniformBelowStaysInRangeAndCoversIt) {
  Prg prg = Prg::from_seed(Block(10, 11));
  std::vector<int> counts(7);
  for (int i = 0; i < 7000; ++i) {
    const uint64_t v = prg.uniform_below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_GT(c, 800);  // expected 1000 each
  EXPECT_EQ(prg.uniform_below(1), 0u);
  EXPECT_LT(prg.uniform_below(UINT64_MAX), UINT64_MAX);
}

TEST(Prg, OsSeededGeneratorsDiffer) {
  Prg a, b;
  EXPECT_NE(a.next_block(), b.next_block());
  EXPECT_NE(os_random_block(), os_random_block());
}

}  // namespace
}  // namespace pinfer
