// The real `pinfer` leaves no secret readable by others: after `serve`, `client register`, two
// `precompute`s and an `infer` (each protocol), run under umask 0 so nothing relies on the
// usual 022, `find STORE -type f -perm /077` prints nothing for the server's and the client's
// store, and every folder in them is 0700.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <string>

#include "pi_harness.hpp"

namespace pinfer::system_test {
namespace {

// Output of `find DIR <args>` (the check an operator would run).
std::string find_output(const fs::path& dir, const std::string& args) {
  const std::string cmd = "find '" + dir.string() + "' " + args + " 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "popen failed";
  std::string out;
  std::array<char, 512> buf{};
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  ::pclose(p);
  return out;
}

class CliStorePermissions : public ::testing::TestWithParam<std::string> {};

TEST_P(CliStorePermissions, FindPermReportsNothingAfterAFullRun) {
  const mode_t old_umask = ::umask(0);
  const fs::path work = fresh_dir("perm");
  {
    ServerProcess server(work, GetParam());
    HeldOutSet held(work);
    const fs::path client = work / "client";
    ASSERT_EQ(run_client(work, "register", "client", server.endpoint(), client).status, 0);
    const ClientResult pre =
        run_client(work, "precompute", "precompute", server.endpoint(), client, {"--count", "2"});
    ASSERT_EQ(pre.status, 0) << pre.err;
    const ClientResult inf = run_client(work, "infer", "infer", server.endpoint(), client,
                                        {"--input", held.input(0).string()});
    ASSERT_EQ(inf.status, 0) << inf.err;
    EXPECT_EQ(server.stop(), 0);
    for (const fs::path& store : {work / "server", client}) {
      // One precompute is still ready on each side: its files are part of the check.
      EXPECT_FALSE(ready_entries(store).empty()) << store;
      EXPECT_EQ(find_output(store, "-type f -perm /077"), "") << store;
      EXPECT_EQ(find_output(store, "-type d ! -perm 700"), "") << store;
      EXPECT_NE(find_output(store, "-type f -name state.bin"), "") << store;
    }
  }
  ::umask(old_umask);
  if (!HasFailure()) fs::remove_all(work);
}

// The library refuses plaintext to a non-loopback address with a typed reason and a message
// that names no flag; the CLI adds the hint about its own --insecure from that reason.
TEST(CliPlaintext, NonLoopbackInsecureServeIsRefusedWithTheCliHint) {
  const fs::path work = fresh_dir("plain");
  ChildProcess serve(
      pinfer_argv({"serve", "--model", digits_model(), "--store", (work / "server").string(),
                   "--capacity", "1GB", "--host", "0.0.0.0", "--port", "0"}),
      SpawnOptions{work / "serve.out", work / "serve.err"});
  const auto status = serve.wait_for(60s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 2);  // invalid argument
  const std::string err = serve.stderr_text();
  const auto hint = err.find("[hint: --insecure");
  EXPECT_NE(hint, std::string::npos) << err;
  EXPECT_NE(err.find("not 0.0.0.0:0; use TLS"), std::string::npos) << err;
  // Before the hint, the library's own text names no flag.
  EXPECT_EQ(err.substr(0, hint).find("--"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(work / "server" / "STORE")) << "refused before opening the store";
  fs::remove_all(work);
}

INSTANTIATE_TEST_SUITE_P(BothProtocols, CliStorePermissions,
                         ::testing::Values("server-garbler", "client-garbler"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace pinfer::system_test
