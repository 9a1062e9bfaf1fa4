#include "pinfer/store/precompute_store.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <set>

#include "pinfer/core/error.hpp"

namespace fs = std::filesystem;
using pinfer::InvalidArgument;
using pinfer::IoError;
using pinfer::StoreError;
using pinfer::store::PrecomputeStore;
using pinfer::store::StoreLimits;

namespace {

class PrecomputeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("pinfer-store-test-" + pinfer::store::new_precompute_id());
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes one precompute with a file of `bytes` bytes and publishes it.
  static std::string put(PrecomputeStore& store, const std::string& client, uint64_t bytes,
                         uint64_t reserve = 0) {
    const std::string id = pinfer::store::new_precompute_id();
    auto w = store.begin(client, id, reserve ? reserve : bytes);
    std::ofstream(w.path("data.bin"), std::ios::binary) << std::string(bytes, 'x');
    w.publish();
    return id;
  }

  fs::path root_;
};

TEST_F(PrecomputeStoreTest, PublishedEntryIsTakenExactlyOnce) {
  PrecomputeStore store(root_, {.capacity_bytes = 1000});
  const std::string id = put(store, "alice", 100);
  EXPECT_EQ(store.count("alice"), 1u);
  EXPECT_EQ(store.used_bytes(), 100u);
  {
    auto taken = store.take("alice", id);
    std::ifstream in(taken.path("data.bin"));
    std::string s;
    in >> s;
    EXPECT_EQ(s, std::string(100, 'x'));
  }
  EXPECT_THROW((void)store.take("alice", id), StoreError);
  EXPECT_FALSE(store.take_oldest("alice").has_value());
  EXPECT_EQ(store.used_bytes(), 0u);
}

TEST_F(PrecomputeStoreTest, TakeOldestFollowsPublicationOrder) {
  PrecomputeStore store(root_, {.capacity_bytes = 1000});
  const std::string a = put(store, "c1", 10);
  const std::string b = put(store, "c1", 10);
  EXPECT_EQ(store.take_oldest("c1")->id(), a);
  EXPECT_EQ(store.take_oldest("c1")->id(), b);
}

TEST_F(PrecomputeStoreTest, FullStoreRefusesCleanly) {
  PrecomputeStore store(root_, {.capacity_bytes = 250});
  put(store, "c1", 100);
  put(store, "c1", 100);
  EXPECT_THROW((void)store.begin("c1", "over", 100), StoreError);
  EXPECT_EQ(store.used_bytes(), 200u);
  EXPECT_EQ(store.count("c1"), 2u);
  // Nothing half-written remains.
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
}

TEST_F(PrecomputeStoreTest, PerClientQuotaIsEnforced) {
  PrecomputeStore store(root_, {.capacity_bytes = 1000, .per_client_capacity_bytes = 150});
  put(store, "c1", 100);
  EXPECT_THROW((void)store.begin("c1", "x", 100), StoreError);
  EXPECT_NO_THROW(put(store, "c2", 100));
}

TEST_F(PrecomputeStoreTest, WritingMoreThanReservedIsRefused) {
  PrecomputeStore store(root_, {.capacity_bytes = 1000});
  auto w = store.begin("c1", "id1", 10);
  std::ofstream(w.path("data.bin"), std::ios::binary) << std::string(20, 'x');
  EXPECT_THROW(w.publish(), StoreError);
}

TEST_F(PrecomputeStoreTest, AbandonedWriterLeavesNothing) {
  PrecomputeStore store(root_, {.capacity_bytes = 1000});
  {
    auto w = store.begin("c1", "id1", 100);
    std::ofstream(w.path("data.bin"), std::ios::binary) << "partial";
  }
  EXPECT_EQ(store.used_bytes(), 0u);
  EXPECT_EQ(store.count("c1"), 0u);
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
}

TEST_F(PrecomputeStoreTest, CrashBetweenTakeAndUseNeverAllowsReuse) {
  std::string id;
  {
    PrecomputeStore store(root_, {.capacity_bytes = 1000});
    id = put(store, "c1", 10);
    auto taken = store.take("c1", id);
    // Simulate a crash while the entry is in use: copy it back to consumed/ as a dead process
    // would have left it, then drop the store without releasing.
    fs::copy(taken.path("data.bin").parent_path(), root_ / "consumed" / "crashed",
             fs::copy_options::recursive);
  }
  PrecomputeStore reopened(root_, {.capacity_bytes = 1000});
  EXPECT_EQ(reopened.recovery().removed_consumed, 1u);
  EXPECT_EQ(reopened.count("c1"), 0u);
  EXPECT_THROW((void)reopened.take("c1", id), StoreError);
}

TEST_F(PrecomputeStoreTest, CrashBeforePublishLeavesNoEntry) {
  {
    PrecomputeStore store(root_, {.capacity_bytes = 1000});
    fs::create_directories(root_ / "tmp" / "dead-writer");
    std::ofstream(root_ / "tmp" / "dead-writer" / "data.bin") << "half";
  }
  PrecomputeStore reopened(root_, {.capacity_bytes = 1000});
  EXPECT_EQ(reopened.recovery().removed_incomplete, 1u);
  EXPECT_EQ(reopened.used_bytes(), 0u);
}

TEST_F(PrecomputeStoreTest, EntriesSurviveReopen) {
  std::string id;
  {
    PrecomputeStore store(root_, {.capacity_bytes = 1000});
    id = put(store, "c1", 42);
  }
  PrecomputeStore reopened(root_, {.capacity_bytes = 1000});
  EXPECT_EQ(reopened.count("c1"), 1u);
  EXPECT_EQ(reopened.used_bytes(), 42u);
  EXPECT_EQ(reopened.take("c1", id).bytes(), 42u);
}

TEST_F(PrecomputeStoreTest, DamagedEntryIsDiscardedNotUsed) {
  std::string id;
  {
    PrecomputeStore store(root_, {.capacity_bytes = 1000});
    id = put(store, "c1", 50);
  }
  // Flip content without changing its size: found by the checksum at take().
  {
    std::fstream f(root_ / "ready" / "c1" / id / "data.bin",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(7);
    f.put('y');
  }
  PrecomputeStore reopened(root_, {.capacity_bytes = 1000});
  EXPECT_THROW((void)reopened.take("c1", id), StoreError);
  EXPECT_EQ(reopened.recovery().removed_damaged, 1u);
  EXPECT_FALSE(fs::exists(root_ / "ready" / "c1" / id));
}

TEST_F(PrecomputeStoreTest, TruncatedManifestIsDiscardedAtOpen) {
  std::string id;
  {
    PrecomputeStore store(root_, {.capacity_bytes = 1000});
    id = put(store, "c1", 50);
  }
  fs::resize_file(root_ / "ready" / "c1" / id / "MANIFEST", 20);
  PrecomputeStore reopened(root_, {.capacity_bytes = 1000});
  EXPECT_EQ(reopened.recovery().removed_damaged, 1u);
  EXPECT_EQ(reopened.count("c1"), 0u);
}

TEST_F(PrecomputeStoreTest, BadNamesAreRejected) {
  PrecomputeStore store(root_, {.capacity_bytes = 1000});
  EXPECT_THROW((void)store.begin("../evil", "id", 1), InvalidArgument);
  EXPECT_THROW((void)store.begin("c1", "a/b", 1), InvalidArgument);
  EXPECT_THROW((void)store.begin("", "id", 1), InvalidArgument);
  auto w = store.begin("c1", "id", 1);
  EXPECT_THROW((void)w.path("../x"), InvalidArgument);
  EXPECT_THROW((void)w.path("MANIFEST"), InvalidArgument);
}

TEST_F(PrecomputeStoreTest, ForeignDirectoryIsNotTouched) {
  fs::create_directories(root_);
  std::ofstream(root_ / "precious.txt") << "keep me";
  EXPECT_THROW(PrecomputeStore(root_, {.capacity_bytes = 1000}), StoreError);
  EXPECT_TRUE(fs::exists(root_ / "precious.txt"));
}

TEST_F(PrecomputeStoreTest, ZeroCapacityIsInvalid) {
  EXPECT_THROW(PrecomputeStore(root_, {.capacity_bytes = 0}), InvalidArgument);
}

TEST_F(PrecomputeStoreTest, IdsAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(pinfer::store::new_precompute_id());
  EXPECT_EQ(ids.size(), 100u);
}

}  // namespace

// ---------------------------------------------------------------- lock, journal, scan

TEST_F(PrecomputeStoreTest, SecondOpenWhileOpenIsRefusedAndLockDiesWithTheStore) {
  {
    PrecomputeStore store(root_, {.capacity_bytes = 1000});
    (void)put(store, "c1", 10);
    // A second opener would run recovery and delete the first one's tmp/ entries.
    auto w = store.begin("c1", "in-flight", 10);
    EXPECT_THROW(PrecomputeStore(root_, {.capacity_bytes = 1000}), StoreError);
    EXPECT_TRUE(fs::exists(w.path("x").parent_path()));
  }
  PrecomputeStore reopened(root_, {.capacity_bytes = 1000});
  EXPECT_EQ(reopened.count("c1"), 1u);
}

TEST_F(PrecomputeStoreTest, JournalRecordsEveryPublishTakeRemoveAndDiscard) {
  std::string a, b, c, d;
  {
    PrecomputeStore store(root_, {.capacity_bytes = 1000});
    a = put(store, "c1", 10);
    b = put(store, "c1", 10);
    c = put(store, "c1", 10);
    d = put(store, "c1", 10);
    (void)store.take("c1", a);
    EXPECT_TRUE(store.remove("c1", b));
  }
  std::ofstream(root_ / "ready" / "c1" / c / "MANIFEST", std::ios::app) << "junk";
  {
    PrecomputeStore reopened(root_, {.capacity_bytes = 1000});
    (void)reopened.take_oldest("c1");
  }
  std::ifstream in(root_ / "JOURNAL");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const std::vector<std::string> expect = {"publish c1 " + a, "publish c1 " + b, "publish c1 " + c,
                                           "publish c1 " + d, "take c1 " + a,    "remove c1 " + b,
                                           "discard c1 " + c, "take c1 " + d};
  EXPECT_EQ(lines, expect);
}

TEST_F(PrecomputeStoreTest, ScanVerifiesEveryFileAndDiscardsDamagedEntries) {
  PrecomputeStore store(root_, {.capacity_bytes = 1000});
  const std::string good = put(store, "c1", 50);
  const std::string bad = put(store, "c1", 50);
  {
    // Same size, different content: only a full re-hash finds it (open checks sizes only).
    std::fstream f(root_ / "ready" / "c1" / bad / "data.bin",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('z');
  }
  const auto scan = store.scan();
  EXPECT_EQ(scan.entries_ok, 1u);
  EXPECT_EQ(scan.removed_damaged, 1u);
  EXPECT_EQ(store.list("c1"), std::vector<std::string>{good});
  EXPECT_EQ(store.used_bytes(), 50u);
  EXPECT_FALSE(fs::exists(root_ / "ready" / "c1" / bad));
  EXPECT_EQ(store.scan().removed_damaged, 0u);
}

// Runs `body` in a child process whose files may not grow past `max_file_bytes` (writes beyond
// fail with EFBIG, as on a full disk); returns the child's exit code.
template <typename F>
int run_with_file_size_limit(rlim_t max_file_bytes, F&& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit lim{max_file_bytes, max_file_bytes};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    int code = 0;
    try {
      body();
    } catch (const pinfer::IoError&) {
      code = 3;
    } catch (...) {
      code = 4;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(PrecomputeStoreTest, CreationOutOfSpaceLeavesAStoreThatOpensLater) {
  // The marker cannot be written: creation fails with IoError, and no half-written marker
  // makes the directory unopenable afterwards.
  EXPECT_EQ(run_with_file_size_limit(4, [&] { PrecomputeStore s(root_, {.capacity_bytes = 100}); }),
            3);
  EXPECT_FALSE(fs::exists(root_ / "STORE"));
  PrecomputeStore store(root_, {.capacity_bytes = 1000});
  (void)put(store, "c1", 10);
  EXPECT_EQ(store.count("c1"), 1u);
}

TEST_F(PrecomputeStoreTest, InterruptedCreationWithEmptyMarkerIsRepaired) {
  fs::create_directories(root_);
  std::ofstream(root_ / "STORE").flush();  // what a pre-fix creation left on a full disk
  PrecomputeStore store(root_, {.capacity_bytes = 1000});
  (void)put(store, "c1", 10);
  EXPECT_EQ(store.count("c1"), 1u);
}
