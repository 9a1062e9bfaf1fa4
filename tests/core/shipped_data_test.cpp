#include "pinfer/core/shipped_data.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

namespace fs = std::filesystem;

// A prefix with share/pinfer and a module three folders below it, PINFER_DATA_DIR unset for the
// test and put back after.
class ShippedData : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* env = std::getenv("PINFER_DATA_DIR")) saved_ = env;
    unsetenv("PINFER_DATA_DIR");
    fs::create_directories(root_ / "share" / "pinfer");
    fs::create_directories(deep_);
  }
  void TearDown() override {
    if (saved_.empty()) {
      unsetenv("PINFER_DATA_DIR");
    } else {
      setenv("PINFER_DATA_DIR", saved_.c_str(), 1);
    }
    fs::remove_all(root_);
  }
  const fs::path root_ = fs::temp_directory_path() / ("pinfer-shipped-" + std::to_string(getpid()));
  const fs::path deep_ = root_ / "lib" / "python" / "pinfer";
  std::string saved_;
};

TEST_F(ShippedData, FoundInTheStartFolderOrAsManyParentsUpAsAllowed) {
  EXPECT_EQ(find_shipped_data(root_, 0), (root_ / "share" / "pinfer").lexically_normal());
  EXPECT_EQ(find_shipped_data(deep_, 3), (root_ / "share" / "pinfer").lexically_normal());
  EXPECT_EQ(find_shipped_data(deep_, 2), std::nullopt);  // root_ is three folders up
  EXPECT_EQ(find_shipped_data(fs::path(), 5), std::nullopt);
}

TEST_F(ShippedData, EnvironmentWinsAndAFolderThatIsNotThereIsAnError) {
  setenv("PINFER_DATA_DIR", deep_.c_str(), 1);
  EXPECT_EQ(find_shipped_data(root_, 0), deep_);
  setenv("PINFER_DATA_DIR", (root_ / "missing").c_str(), 1);
  EXPECT_THROW((void)find_shipped_data(root_, 0), IoError);
}

}  // namespace
}  // namespace pinfer
