// Bit packing of ciphertext coefficients (src/he/bit_pack.hpp) against a bit-by-bit reference,
// for every width and counts that end inside, at and past the fast path's last full load.
#include "he/bit_pack.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "he/wide_int.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer::he::detail {
namespace {

std::vector<std::byte> reference_pack(const std::vector<uint64_t>& v, unsigned bits) {
  std::vector<std::byte> out(packed_bytes(v.size(), bits));
  for (std::size_t i = 0; i < v.size(); ++i) {
    for (unsigned b = 0; b < bits; ++b) {
      const std::size_t bit = i * bits + b;
      if ((v[i] >> b) & 1) out[bit / 8] |= static_cast<std::byte>(1u << (bit % 8));
    }
  }
  return out;
}

TEST(BitPack, MatchesBitByBitReferenceForEveryWidth) {
  Prg prg = Prg::from_seed(Block(3, 4));
  for (unsigned bits = 1; bits <= 64; ++bits) {
    for (const std::size_t count : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{9},
                                    std::size_t{64}, std::size_t{1001}}) {
      std::vector<uint64_t> v(count);
      for (auto& x : v) x = prg.next_u64();  // high bits beyond `bits` must be ignored
      const auto want = reference_pack(v, bits);
      std::vector<std::byte> got(want.size());
      pack_bits(got.data(), v.data(), count, bits);
      ASSERT_EQ(got, want) << "bits " << bits << " count " << count;
      std::vector<uint64_t> back(count);
      unpack_bits(got.data(), back.data(), count, bits);
      const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
      for (std::size_t i = 0; i < count; ++i) {
        ASSERT_EQ(back[i], v[i] & mask) << "bits " << bits << " count " << count << " i " << i;
      }
    }
  }
}

TEST(BitPack, WideWriterAndReaderMatchTheReference) {
  // Query coefficients are up to 256 bits wide (docs/HE.md, section 7).
  Prg prg = Prg::from_seed(Block(5, 6));
  for (const unsigned bits : {1u, 8u, 63u, 64u, 65u, 100u, 128u, 141u, 142u, 145u, 200u, 256u}) {
    for (const std::size_t count : {std::size_t{1}, std::size_t{3}, std::size_t{17}}) {
      std::vector<U256> v(count);
      std::vector<std::byte> want(packed_bytes(count, bits));
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
      for (const U256& x : v) w.put_wide(x, bits);
      w.flush();
      ASSERT_EQ(got, want) << "bits " << bits << " count " << count;
      BitReader r(got.data(), got.size());
      for (std::size_t i = 0; i < count; ++i) {
        const U256 back = r.get_wide(bits);
        for (int k = 0; k < 4; ++k) ASSERT_EQ(back.w[k], v[i].w[k]) << "bits " << bits;
      }
    }
  }
}

}  // namespace
}  // namespace pinfer::he::detail
