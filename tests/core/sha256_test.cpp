#include "pinfer/core/sha256.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/core/hex.hpp"

namespace pinfer {
namespace {

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf") and the empty message.
TEST(Sha256, StandardVectors) {
  EXPECT_EQ(sha256_hex(std::string_view("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string_view("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(
      sha256_hex(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(to_hex(sha256(std::string_view("abc"))), sha256_hex(std::string_view("abc")));
}

TEST(Sha256, FileDigestEqualsDigestOfItsBytes) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("pinfer-sha256-test-" +
                     std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".bin");
  // Larger than one 1 MiB read, and not a multiple of it.
  std::string data((std::size_t{1} << 20) + 12345, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131) >> 3);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  EXPECT_EQ(sha256_file_hex(path), sha256_hex(std::string_view(data)));
  std::filesystem::remove(path);
  EXPECT_THROW((void)sha256_file_hex(path), IoError);
}

}  // namespace
}  // namespace pinfer
