// Query coefficients of up to 256 bits through core's BitWriter / BitReader (put_wide and
// get_wide, src/he/wide_int.hpp) against a bit-by-bit reference.
#include <gtest/gtest.h>

#include <vector>

#include "he/wide_int.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer::he::detail {
namespace {

TEST(WideBits, WriterAndReaderMatchTheReference) {
  // Query coefficients are up to 256 bits wide (docs/HE.md, section 7).
  Prg prg = Prg::from_seed(Block(5, 6));
  for (const unsigned bits : {1u, 8u, 63u, 64u, 65u, 100u, 128u, 141u, 142u, 145u, 200u, 256u}) {
    for (const std::size_t count : {std::size_t{1}, std::size_t{3}, std::size_t{17}}) {
      std::vector<U256> v(count);
      std::vector<std::byte> want((count * bits + 7) / 8);
      for (std::size_t i = 0; i < count; ++i) {
        for (auto& w : v[i].w) w = prg.next_u64();
        for (unsigned b = 0; b < 256; ++b) {  // keep the low `bits` bits, pack them bit by bit
          if (b >= bits) {
            v[i].w[b / 64] &= ~(uint64_t{1} << (b % 64));
          } else if ((v[i].w[b / 64] >> (b % 64)) & 1) {
            const std::size_t bit = i * bits + b;
            want[bit / 8] |= static_cast<std::byte>(1u << (bit % 8));
          }
        }
      }
      std::vector<std::byte> got(want.size());
      BitWriter w(got.data());
      for (const U256& x : v) put_wide(w, x, bits);
      w.flush();
      ASSERT_EQ(got, want) << "bits " << bits << " count " << count;
      BitReader r(got.data(), got.size());
      for (std::size_t i = 0; i < count; ++i) {
        const U256 back = get_wide(r, bits);
        for (int k = 0; k < 4; ++k) ASSERT_EQ(back.w[k], v[i].w[k]) << "bits " << bits;
      }
    }
  }
}

}  // namespace
}  // namespace pinfer::he::detail
