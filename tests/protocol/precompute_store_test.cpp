#include "pinfer/protocol/precompute_store.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "pinfer/core/error.hpp"

namespace fs = std::filesystem;
using pinfer::InvalidArgument;
using pinfer::StoreError;
using pinfer::protocol::PrecomputeStore;
using pinfer::protocol::StoreLimits;

namespace {

class PrecomputeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() / ("pinfer-store-test-" + pinfer::protocol::new_precompute_id());
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes one precompute with a file of `bytes` bytes and publishes it.
  static std::string put(PrecomputeStore& store, const std::string& client, uint64_t bytes,
                         uint64_t reserve = 0) {
    const std::string id = pinfer::protocol::new_precompute_id();
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
  for (int i = 0; i < 100; ++i) ids.insert(pinfer::protocol::new_precompute_id());
  EXPECT_EQ(ids.size(), 100u);
}

}  // namespace
