// Disk full during a precompute, for real (no mocks): the writing process runs under
// RLIMIT_FSIZE with SIGXFSZ ignored, so its writes fail with EFBIG, or its store lives on a
// small tmpfs (ENOSPC; needs root with mount permission, skipped otherwise). Each case checks
// that the failure is reported with the store's path and the failed write, that no partial
// entry is left (tmp/ empty, nothing published, every remaining entry verifies), and that once
// space is back the next precompute and inference work, bit-exact.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cstring>

#include "pi_harness.hpp"

namespace pinfer::system_test {
namespace {

class DiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fresh_dir("diskfull");
    held_ = std::make_unique<HeldOutSet>(work_);
  }
  void TearDown() override {
    server_.reset();
    if (mounted_) ::umount2(mounted_->c_str(), MNT_DETACH);
    if (!HasFailure()) fs::remove_all(work_);
  }

  // Nothing of the failed precompute is left in `store`, and it still verifies.
  static void expect_clean(const fs::path& store, std::size_t entries_before) {
    EXPECT_EQ(entries_in(store / "tmp"), 0u) << store;
    EXPECT_EQ(entries_in(store / "consumed"), 0u) << store;
    EXPECT_EQ(ready_entries(store).size(), entries_before) << store;
  }
  static void expect_audit_ok(const fs::path& store) {
    const StoreAudit a = audit_store(store);
    EXPECT_EQ(a.damaged, 0u) << store;
    EXPECT_EQ(a.cleaned, 0u) << store << ": the failing process did not clean up itself";
    EXPECT_TRUE(a.reused.empty()) << store;
  }
  // A precompute and an inference that must succeed and be bit-exact.
  void expect_inference_works(const fs::path& client_store, const std::string& tag) {
    const ClientResult p =
        run_client(work_, tag + "-precompute", "precompute", server_->endpoint(), client_store);
    ASSERT_EQ(p.status, 0) << p.err;
    const ClientResult r =
        run_client(work_, tag + "-infer", "infer", server_->endpoint(), client_store,
                   {"--input", held_->input(5).string(), "--json", "--no-on-demand"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out).at("logits_ring").get<std::vector<uint64_t>>(),
              held_->expected_logits(5));
  }

  fs::path work_;
  std::unique_ptr<HeldOutSet> held_;
  std::unique_ptr<ServerProcess> server_;
  std::optional<fs::path> mounted_;
};

TEST_F(DiskFull, ClientStoreFullDuringServerGarblerPrecompute) {
  // Server-Garbler: the client stores the garbled tables (~11 MB for digits).
  const fs::path store = work_ / "client";
  server_ = std::make_unique<ServerProcess>(work_, "server-garbler");
  ASSERT_EQ(run_client(work_, "register", "client", server_->endpoint(), store).status, 0);
  const ClientResult r =
      run_client(work_, "full", "precompute", server_->endpoint(), store, {}, 16 << 10);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find(store.string() + "/tmp/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  expect_clean(store, 0);
  expect_audit_ok(store);
  // A server half published before the client failed is discarded at the next handshake.
  expect_inference_works(store, "after");
  EXPECT_EQ(server_->stop(), 0);
  expect_audit_ok(work_ / "server");
  // Whatever the server stored for the failed precompute was discarded, not left behind.
  EXPECT_TRUE(ready_entries(work_ / "server").empty());
}

TEST_F(DiskFull, ServerStoreFullDuringClientGarblerPrecompute) {
  // Client-Garbler: the server stores the garbled tables.
  const fs::path store = work_ / "client";
  server_ = std::make_unique<ServerProcess>(work_, "client-garbler", std::vector<std::string>{},
                                            64 << 10);
  ASSERT_EQ(run_client(work_, "register", "client", server_->endpoint(), store).status, 0);
  const ClientResult r = run_client(work_, "full", "precompute", server_->endpoint(), store);
  EXPECT_NE(r.status, 0);
  // The client is told why (without the server's paths), not just that the connection closed.
  EXPECT_NE(r.err.find("server cannot store the precompute: a write to its store failed (File "
                       "too large)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find((work_ / "server").string()), std::string::npos) << r.err;
  expect_clean(store, 0);
  // The server reports the failed write, naming its store, and keeps serving.
  const ClientResult again = run_client(work_, "again", "precompute", server_->endpoint(), store);
  EXPECT_NE(again.status, 0);
  EXPECT_EQ(server_->stop(), 0);
  const std::string log = server_->process().stderr_text();
  EXPECT_NE(log.find((work_ / "server").string() + "/tmp/"), std::string::npos) << log;
  EXPECT_NE(log.find("cannot write"), std::string::npos) << log;
  expect_clean(work_ / "server", 0);
  expect_audit_ok(work_ / "server");
  expect_audit_ok(store);
  // Space is back (no limit): the next precompute and inference work.
  server_ = std::make_unique<ServerProcess>(work_, "client-garbler");
  expect_inference_works(store, "after");
}

TEST_F(DiskFull, ClientStoreOnFullTmpfs) {
  const fs::path mnt = work_ / "small";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "; needs root with CAP_SYS_ADMIN): the RLIMIT_FSIZE cases cover disk full";
  }
  mounted_ = mnt;
  const fs::path store = mnt / "client";
  server_ = std::make_unique<ServerProcess>(work_, "server-garbler");
  ASSERT_EQ(run_client(work_, "register", "client", server_->endpoint(), store).status, 0);
  const ClientResult r = run_client(work_, "full", "precompute", server_->endpoint(), store);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find(store.string() + "/tmp/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  expect_clean(store, 0);
  expect_audit_ok(store);
  // Space comes back: grow the file system in place.
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, "size=64m"), 0)
      << std::strerror(errno);
  expect_inference_works(store, "after");
}

}  // namespace
}  // namespace pinfer::system_test
