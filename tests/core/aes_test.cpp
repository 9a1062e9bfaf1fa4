#include "pinfer/core/aes.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "pinfer/core/prg.hpp"

namespace pinfer {
namespace {

Block from_hex(const char* hex) {
  uint8_t b[16];
  for (int i = 0; i < 16; ++i) {
    unsigned v = 0;
    sscanf(hex + 2 * i, "%2x", &v);
    b[i] = static_cast<uint8_t>(v);
  }
  Block out;
  std::memcpy(&out, b, 16);
  return out;
}

const CpuPath kPaths[] = {CpuPath::openssl, CpuPath::aesni, CpuPath::vaes};

// FIPS-197 Appendix C.1 (AES-128) through the default path and the key schedule; every
// kernel path is checked against the same known answer in AesPath below.
TEST(Aes128, Fips197KnownAnswer) {
  const Aes128 aes(from_hex("000102030405060708090a0b0c0d0e0f"));
  const Block pt = from_hex("00112233445566778899aabbccddeeff");
  Block out;
  aes.encrypt_ecb({&pt, 1}, {&out, 1});
  EXPECT_EQ(out, from_hex("69c4e0d86a7b0430d8cdb78070b4c55a"));
  // Round keys 0, 1 and 10 of the same example (FIPS-197 C.1, round[r].k_sch).
  EXPECT_EQ(aes.round_keys().k[0], from_hex("000102030405060708090a0b0c0d0e0f"));
  EXPECT_EQ(aes.round_keys().k[1], from_hex("d6aa74fdd2af72fadaa678f1d6ab76fe"));
  EXPECT_EQ(aes.round_keys().k[10], from_hex("13111d7fe3944a17f307a78b4d2b30c5"));
}

// FIPS-197 Appendix A.1 key expansion: the last word of the schedule is b6630ca6.
TEST(Aes128, Fips197KeyExpansion) {
  const Aes128 aes(from_hex("2b7e151628aed2a6abf7158809cf4f3c"));
  EXPECT_EQ(aes.round_keys().k[10], from_hex("d014f9a8c9ee2589e13f0cc8b6630ca6"));
}

class AesPath : public ::testing::TestWithParam<CpuPath> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam())) {
      GTEST_SKIP() << "this CPU lacks the instructions of the " << to_string(GetParam())
                   << " path; its comparison did not run";
    }
  }
};

TEST_P(AesPath, Fips197KnownAnswer) {
  const Aes128 aes(from_hex("000102030405060708090a0b0c0d0e0f"));
  const Block pt = from_hex("00112233445566778899aabbccddeeff");
  Block out;
  aes.encrypt_ecb_with(GetParam(), {&pt, 1}, {&out, 1});
  EXPECT_EQ(out, from_hex("69c4e0d86a7b0430d8cdb78070b4c55a"));
}

TEST_P(AesPath, EcbMatchesOpensslForEveryLength) {
  const Aes128 aes(Block(0x0123456789abcdef, 0xfedcba9876543210));
  Prg prg = Prg::from_seed(Block(1, 1));
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 70; ++n) lengths.push_back(n);
  lengths.push_back(10000);
  for (std::size_t n : lengths) {
    std::vector<Block> in(n), want(n), got(n);
    prg.fill_blocks(in);
    aes.encrypt_ecb_with(CpuPath::openssl, in, want);
    aes.encrypt_ecb_with(GetParam(), in, got);
    EXPECT_EQ(got, want) << "n=" << n;
    // In place (in and out alias).
    aes.encrypt_ecb_with(GetParam(), in, in);
    EXPECT_EQ(in, want) << "in place, n=" << n;
  }
}

TEST_P(AesPath, CtrMatchesOpensslForEveryLength) {
  const Aes128 aes(Block(0x1111, 0x2222));
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 70; ++n) lengths.push_back(n);
  lengths.push_back(10000);
  for (std::size_t n : lengths) {
    std::vector<Block> want(n), got(n);
    // A counter near 2^64 checks the low word wraps the same way on every path.
    const uint64_t counter = n == 10000 ? UINT64_MAX - 5000 : 1000 + n;
    aes.ctr_keystream_with(CpuPath::openssl, counter, 77, want);
    aes.ctr_keystream_with(GetParam(), counter, 77, got);
    EXPECT_EQ(got, want) << "n=" << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, AesPath, ::testing::ValuesIn(kPaths),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(Aes128, CtrIsEcbOfCounterBlocks) {
  const Aes128 aes(Block(3, 4));
  std::vector<Block> ks(9), in(9), want(9);
  aes.ctr_keystream(100, 5, ks);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = Block(100 + i, 5);
  aes.encrypt_ecb(in, want);
  EXPECT_EQ(ks, want);
}

TEST(Aes128, ActivePathIsSupported) {
  EXPECT_TRUE(cpu_supports(aes_active_path()));
}

}  // namespace
}  // namespace pinfer
