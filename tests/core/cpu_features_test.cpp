#include "pinfer/core/detail/cpu_features.hpp"

#include <gtest/gtest.h>

#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

TEST(CpuFeatures, PathNamesRoundTrip) {
  for (CpuPath p : {CpuPath::openssl, CpuPath::aesni, CpuPath::vaes}) {
    EXPECT_EQ(parse_cpu_path(to_string(p)), p);
  }
}

TEST(CpuFeatures, UnknownPathNameIsInvalidArgument) {
  for (const char* bad : {"", "AESNI", "avx2", "vaes ", "portable\n"}) {
    try {
      (void)parse_cpu_path(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("openssl, aesni, vaes"), std::string::npos);
    }
  }
}

TEST(CpuFeatures, OldPortableNameIsRefusedNamingTheNewOne) {
  try {
    (void)parse_cpu_path("portable");
    ADD_FAILURE() << "accepted 'portable'";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("now called 'openssl'"), std::string::npos) << e.what();
  }
}

TEST(CpuFeatures, OpensslAlwaysSupportedAndPreferredPathRunsHere) {
  EXPECT_TRUE(cpu_supports(CpuPath::openssl));
  EXPECT_TRUE(cpu_supports(preferred_cpu_path()));
  if (cpu_supports(CpuPath::vaes)) {
    EXPECT_TRUE(cpu_supports(CpuPath::aesni));
  }
  EXPECT_EQ(cpu_supports(CpuPath::aesni), cpu_features().aesni && cpu_features().pclmul);
}

}  // namespace
}  // namespace pinfer
