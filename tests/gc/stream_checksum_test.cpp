#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "gc/gc_avx512.hpp"
#include "gc/stream_checksum.hpp"
#include "pinfer/core/detail/cpu_features.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer::gc::detail {
namespace {

std::vector<std::byte> random_bytes(std::size_t n) {
  std::vector<std::byte> v(n);
  Prg().fill_bytes(v);
  return v;
}

TEST(StreamChecksum, Avx512AndPortableLanesAgree) {
  if (!cpu_supports(CpuPath::vaes))
    GTEST_SKIP() << "this CPU lacks AVX-512: the avx512/portable comparison did not run";
  const std::vector<std::byte> data = random_bytes(64 * 37);
  std::array<uint64_t, 8> a{1, 2, 3, 4, 5, 6, 7, 8}, b = a;
  checksum_lanes_portable(a.data(), data.data(), 37);
  checksum_lanes_avx512(b.data(), data.data(), 37);
  EXPECT_EQ(a, b);
}

TEST(StreamChecksum, SplitUpdatesEqualOneUpdate) {
  const std::vector<std::byte> data = random_bytes(8 * 101);
  StreamChecksum one, split;
  one.update(data);
  split.update(std::span(data).first(24));
  split.update(std::span(data).subspan(24, 520));
  split.update(std::span(data).subspan(544));
  EXPECT_EQ(one.finish(), split.finish());
}

TEST(StreamChecksum, EverySingleBitFlipChangesTheSum) {
  const std::vector<std::byte> data = random_bytes(256);
  StreamChecksum ref;
  ref.update(data);
  const Block want = ref.finish();
  for (std::size_t bit = 0; bit < data.size() * 8; ++bit) {
    std::vector<std::byte> bad = data;
    bad[bit / 8] ^= std::byte{static_cast<uint8_t>(1u << (bit % 8))};
    StreamChecksum sum;
    sum.update(bad);
    ASSERT_NE(sum.finish(), want) << "bit " << bit;
  }
  // Length matters too (trailing zero words).
  std::vector<std::byte> longer = data;
  longer.resize(data.size() + 8);
  StreamChecksum sum;
  sum.update(longer);
  EXPECT_NE(sum.finish(), want);
}

}  // namespace
}  // namespace pinfer::gc::detail
