#include "pinfer/core/capped_read.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../expect_message.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

namespace fs = std::filesystem;

class CappedRead : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pinfer-capped-read-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  fs::path dir_;
};

TEST_F(CappedRead, ReadsWholeFilesUpToTheCap) {
  const fs::path p = write("a", "hello, world");
  const SecretBuffer<std::byte> b = read_file_capped(p, 12);
  ASSERT_EQ(b.size(), 12u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), b.size()), "hello, world");
  EXPECT_EQ(read_file_capped(write("empty", ""), 0).size(), 0u);
}

TEST_F(CappedRead, LargerThanTheCapIsAFormatErrorNamingSizeAndLimit) {
  const fs::path p = write("big", std::string(101, 'x'));
  const std::string msg =
      test_support::message_of<FormatError>([&] { (void)read_file_capped(p, 100); });
  EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("101"), std::string::npos) << msg;
  EXPECT_NE(msg.find("100"), std::string::npos) << msg;
}

TEST_F(CappedRead, MissingFileIsIoErrorAndAFolderIsFormatError) {
  EXPECT_THROW((void)read_file_capped(dir_ / "missing", 100), IoError);
  EXPECT_THROW((void)read_file_capped(dir_, 1 << 20), FormatError);
}

}  // namespace
}  // namespace pinfer
