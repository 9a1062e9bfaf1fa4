#pragma once
// Fast-path comparisons on a CPU without the instructions: the paths the CPU runs are still
// compared, and the test then reports a skip naming the paths it could not run, so a machine
// without AVX-512 shows "skipped" in the test summary instead of a silent pass. (A failure in
// the paths that did run still fails the test.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pinfer::test {

// Records a skip (without returning, unlike GTEST_SKIP) when `missing` is not empty.
inline void report_unrun_paths(const std::vector<std::string>& missing) {
  if (missing.empty()) return;
  std::string names;
  for (const std::string& m : missing) {
    if (names.find(m) == std::string::npos) names += (names.empty() ? "" : ", ") + m;
  }
  ::testing::internal::AssertHelper(::testing::TestPartResult::kSkip, __FILE__, __LINE__, "") =
      ::testing::Message() << "this CPU lacks the instructions of path(s) " << names
                           << ": those comparisons did not run";
}

}  // namespace pinfer::test
