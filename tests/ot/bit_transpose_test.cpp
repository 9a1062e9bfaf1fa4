#include "pinfer/ot/detail/bit_transpose.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fast_path_skip.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer::ot {
namespace {

bool get_bit(const Block& b, std::size_t k) {
  return (((k < 64 ? b.lo : b.hi) >> (k % 64)) & 1) != 0;
}

std::vector<Block> naive_transpose(const std::vector<Block>& in, std::size_t nb) {
  std::vector<Block> out(128 * nb);
  for (std::size_t i = 0; i < 128; ++i) {
    for (std::size_t j = 0; j < 128 * nb; ++j) {
      if (get_bit(in[i * nb + j / 128], j % 128)) {
        (i < 64 ? out[j].lo : out[j].hi) |= uint64_t{1} << (i % 64);
      }
    }
  }
  return out;
}

TEST(BitTranspose, EveryPathMatchesNaive) {
  std::vector<std::string> missing;
  Prg prg = Prg::from_seed(Block(7, 1));
  for (std::size_t nb : {1u, 3u, 8u}) {
    std::vector<Block> in(128 * nb);
    prg.fill_blocks(in);
    const std::vector<Block> want = naive_transpose(in, nb);
    for (TransposePath p : {TransposePath::portable, TransposePath::sse2, TransposePath::avx2,
                            TransposePath::avx512}) {
      if (!transpose_path_supported(p)) {
        missing.push_back(std::string(to_string(p)));
        continue;
      }
      std::vector<Block> out(128 * nb);
      transpose_128xn_with(p, in, nb, out);
      EXPECT_EQ(out, want) << "path " << to_string(p) << " n_blocks " << nb;
    }
    std::vector<Block> out(128 * nb);
    transpose_128xn(in, nb, out);
    EXPECT_EQ(out, want);
  }
  ::pinfer::test::report_unrun_paths(missing);
}

TEST(BitTranspose, SingleBitLandsInPlace) {
  std::vector<std::string> missing;
  // One set bit at (row 77, column 300): out[300] must be exactly bit 77.
  const std::size_t nb = 3;
  std::vector<Block> in(128 * nb);
  in[77 * nb + 300 / 128].lo |= uint64_t{1} << (300 % 128 % 64);
  for (TransposePath p :
       {TransposePath::portable, TransposePath::sse2, TransposePath::avx2, TransposePath::avx512}) {
    if (!transpose_path_supported(p)) {
      missing.push_back(std::string(to_string(p)));
      continue;
    }
    std::vector<Block> out(128 * nb);
    transpose_128xn_with(p, in, nb, out);
    for (std::size_t j = 0; j < out.size(); ++j) {
      EXPECT_EQ(out[j], j == 300 ? Block(0, uint64_t{1} << 13) : Block()) << to_string(p) << j;
    }
  }
  ::pinfer::test::report_unrun_paths(missing);
}

TEST(BitTranspose, RejectsWrongSizes) {
  std::vector<Block> in(128 * 2), out(128 * 3);
  EXPECT_THROW(transpose_128xn(in, 2, out), InvalidArgument);
}

}  // namespace
}  // namespace pinfer::ot

namespace pinfer::ot {
namespace {

TEST(BitTranspose, StridedMatchesContiguousOnEveryPath) {
  std::vector<std::string> missing;
  Prg prg = Prg::from_seed(Block(9, 2));
  const std::size_t nb = 5, stride = 9;
  std::vector<Block> packed(128 * nb), padded(128 * stride);
  prg.fill_blocks(padded);
  for (std::size_t i = 0; i < 128; ++i) {
    for (std::size_t k = 0; k < nb; ++k) packed[i * nb + k] = padded[i * stride + k];
  }
  std::vector<Block> want(128 * nb);
  transpose_128xn_with(TransposePath::portable, packed, nb, want);
  for (TransposePath p :
       {TransposePath::portable, TransposePath::sse2, TransposePath::avx2, TransposePath::avx512}) {
    if (!transpose_path_supported(p)) {
      missing.push_back(std::string(to_string(p)));
      continue;
    }
    std::vector<Block> out(128 * nb);
    transpose_128xn_strided_with(p, padded, stride, nb, out);
    EXPECT_EQ(out, want) << to_string(p);
  }
  std::vector<Block> out(128 * nb);
  EXPECT_THROW(transpose_128xn_strided(padded, nb - 1, nb, out), InvalidArgument);
  EXPECT_THROW(transpose_128xn_strided(std::span(padded).first(127 * stride), stride, nb, out),
               InvalidArgument);
  ::pinfer::test::report_unrun_paths(missing);
}

}  // namespace
}  // namespace pinfer::ot
