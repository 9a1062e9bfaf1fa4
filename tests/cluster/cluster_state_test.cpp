// ClusterState against a private PostgreSQL server (tests/cluster/private_postgres.hpp).
#include "pinfer/cluster/cluster_state.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/private_postgres.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::cluster {
namespace {

using cluster_test::PrivatePostgres;
using protocol::ProtocolKind;

constexpr const char* kDigest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const std::string kTokenHash(64, 'a');

NodeJoin node(const std::string& id, uint64_t free_bytes = 1000) {
  NodeJoin n;
  n.node_id = id;
  n.address = "127.0.0.1:" + std::to_string(7000 + id.size());
  n.model_digest = kDigest;
  n.protocol = ProtocolKind::client_garbler;
  n.capacity_bytes = 10000;
  n.free_bytes = free_bytes;
  return n;
}

// GCC 12 warns falsely (-Wrestrict) on `"p" + std::to_string(i)`.
std::string precompute_name(int i) {
  std::string name = "p";
  name += std::to_string(i);
  return name;
}

// One server per test program run (each test runs in its own process under ctest).
class ClusterStateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pg_ = new PrivatePostgres(); }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    // A fresh database per test, so tests in one process do not see each other's rows.
    const std::string db = "t" + std::to_string(++db_count_);
    admin_sql("CREATE DATABASE " + db);
    url_ = pg_->url(db);
    state_ = std::make_unique<ClusterState>(url_);
    state_->init();
  }

  // Runs SQL the API does not offer (setting clocks back), as the test's own connection.
  void admin_sql(const std::string& sql, const std::string& db = "postgres") {
    PGconn* conn = PQconnectdb(pg_->url(db).c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) << PQerrorMessage(conn);
    PQclear(r);
    PQfinish(conn);
  }
  // Makes the node's last heartbeat an hour old.
  void silence(const std::string& node_id) {
    admin_sql(
        "UPDATE pinfer_nodes SET heartbeat_at = heartbeat_at - interval '1 hour' "
        "WHERE id = '" +
            node_id + "'",
        "t" + std::to_string(db_count_));
  }

  static PrivatePostgres* pg_;
  static int db_count_;
  std::string url_;
  std::unique_ptr<ClusterState> state_;
};

PrivatePostgres* ClusterStateTest::pg_ = nullptr;
int ClusterStateTest::db_count_ = 0;

TEST_F(ClusterStateTest, SchemaInitIsIdempotentAndSafeConcurrently) {
  EXPECT_EQ(state_->schema_version(), ClusterState::kSchemaVersion);
  state_->init();
  state_->init();
  EXPECT_EQ(state_->schema_version(), 1);
  // Rows survive a second init.
  const NodeLease a = state_->join(node("a"));
  state_->init();
  EXPECT_EQ(state_->status().nodes.size(), 1u);
  EXPECT_EQ(a.epoch, 1u);

  // Several processes initialising a fresh database at once.
  admin_sql("CREATE DATABASE concurrent_init");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        ClusterState s(pg_->url("concurrent_init"));
        s.init();
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ClusterState(pg_->url("concurrent_init")).schema_version(), 1);
}

TEST_F(ClusterStateTest, UninitialisedDatabaseHasSchemaVersionZero) {
  admin_sql("CREATE DATABASE empty_db");
  ClusterState s(pg_->url("empty_db"));
  EXPECT_EQ(s.schema_version(), 0);
}

TEST_F(ClusterStateTest, NewerSchemaIsRefused) {
  admin_sql("INSERT INTO pinfer_schema (version) VALUES (2)", "t" + std::to_string(db_count_));
  EXPECT_THROW(state_->init(), Unsupported);
}

TEST_F(ClusterStateTest, JoinRefusesAnotherModelOrProtocol) {
  const NodeLease a = state_->join(node("a"));
  EXPECT_EQ(a.node_id, "a");
  NodeJoin other_model = node("b");
  other_model.model_digest = std::string(64, '1');
  try {
    (void)state_->join(other_model);
    FAIL() << "joined with another model";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("model digest"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(kDigest), std::string::npos) << e.what();
  }
  NodeJoin other_protocol = node("b");
  other_protocol.protocol = ProtocolKind::server_garbler;
  try {
    (void)state_->join(other_protocol);
    FAIL() << "joined with another protocol";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("server-garbler"), std::string::npos) << e.what();
  }
  const ClusterStatus s = state_->status();
  ASSERT_EQ(s.nodes.size(), 1u);
  EXPECT_EQ(s.model_digest, std::string(kDigest));
  EXPECT_EQ(s.protocol, ProtocolKind::client_garbler);
  // The same model joins.
  EXPECT_EQ(state_->join(node("b")).epoch, 1u);
}

TEST_F(ClusterStateTest, BadIdsAndTokensAreRefusedBeforeTheDatabase) {
  EXPECT_THROW((void)state_->join(node("")), InvalidArgument);
  EXPECT_THROW((void)state_->join(node("a'; DROP TABLE pinfer_nodes; --")), InvalidArgument);
  NodeJoin huge = node("a");
  huge.capacity_bytes = UINT64_MAX;
  EXPECT_THROW((void)state_->join(huge), InvalidArgument);
  (void)state_->join(node("a"));
  // Only a SHA-256 in hex is stored: a raw token is refused.
  EXPECT_THROW(state_->register_client("c1", "not-a-hash"), InvalidArgument);
  EXPECT_THROW(state_->register_client("c1", std::string(64, 'A')), InvalidArgument);
  EXPECT_THROW(state_->register_client("c/1", kTokenHash), InvalidArgument);
  EXPECT_EQ(state_->register_client("c1", kTokenHash), "a");
  EXPECT_EQ(state_->token_hash("c1"), kTokenHash);
  EXPECT_EQ(state_->token_hash("nobody"), std::nullopt);
}

TEST_F(ClusterStateTest, HeartbeatsKeepANodeAliveAndSilentNodesAreDeclaredDead) {
  const NodeLease a = state_->join(node("a"));
  const NodeLease b = state_->join(node("b"));
  state_->heartbeat(a, 900);
  state_->heartbeat(b, 800);
  EXPECT_TRUE(state_->mark_dead_nodes(std::chrono::minutes(5)).empty());
  silence("b");
  EXPECT_EQ(state_->mark_dead_nodes(std::chrono::minutes(5)), std::vector<std::string>{"b"});
  // Declared once: a second sweep finds nothing new.
  EXPECT_TRUE(state_->mark_dead_nodes(std::chrono::minutes(5)).empty());
  state_->heartbeat(a, 700);
  // Fencing: the dead node's lease is stale.
  EXPECT_THROW(state_->heartbeat(b, 800), ProtocolError);
  const ClusterStatus s = state_->status();
  ASSERT_EQ(s.nodes.size(), 2u);
  EXPECT_EQ(s.nodes[0].state, NodeState::alive);
  EXPECT_EQ(s.nodes[0].free_bytes, 700u);
  EXPECT_EQ(s.nodes[1].state, NodeState::dead);
  EXPECT_EQ(s.nodes[1].epoch, 2u);
  EXPECT_GE(s.nodes[1].heartbeat_age_ms, 3'600'000u);
  EXPECT_THROW((void)state_->mark_dead_nodes(std::chrono::milliseconds(0)), InvalidArgument);
  // Back with a new epoch.
  const NodeLease b2 = state_->join(node("b"));
  EXPECT_EQ(b2.epoch, 3u);
  state_->heartbeat(b2, 800);
}

TEST_F(ClusterStateTest, NodeReturningAfterDeclaredDeadCannotTakeItsOldPrecomputes) {
  const NodeLease a = state_->join(node("a"));
  state_->add_precompute(a, "p1", "c1");
  state_->add_precompute(a, "p2", "c1");
  state_->take_precompute(a, "p2");  // mid-inference when it went silent
  silence("a");
  ASSERT_EQ(state_->mark_dead_nodes(std::chrono::seconds(60)), std::vector<std::string>{"a"});
  EXPECT_EQ(state_->precompute_state("p1"), PrecomputeState::lost);
  EXPECT_EQ(state_->precompute_state("p2"), PrecomputeState::lost);
  // The old process, unaware, tries to go on with its old epoch.
  EXPECT_THROW(state_->take_precompute(a, "p1"), StoreError);
  EXPECT_THROW(state_->add_precompute(a, "p3", "c1"), StoreError);
  // Rejoining gives a new epoch but none of the old precomputes.
  const NodeLease a2 = state_->join(node("a"));
  EXPECT_GT(a2.epoch, a.epoch);
  try {
    state_->take_precompute(a2, "p1");
    FAIL() << "took a precompute held before the node was declared dead";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("lost"), std::string::npos) << e.what();
  }
  // Even if someone had left p1 'stored' (e.g. set back by hand), its old epoch fences it.
  admin_sql("UPDATE pinfer_precomputes SET state = 'stored' WHERE id = 'p1'",
            "t" + std::to_string(db_count_));
  try {
    state_->take_precompute(a2, "p1");
    FAIL() << "took a precompute stored under an old epoch";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("epoch"), std::string::npos) << e.what();
  }
  // New precomputes work under the new epoch.
  state_->add_precompute(a2, "p3", "c1");
  state_->take_precompute(a2, "p3");
  state_->consume_precompute(a2, "p3");
  EXPECT_EQ(state_->precompute_state("p3"), PrecomputeState::consumed);
}

TEST_F(ClusterStateTest, MarkPrecomputesLostOnlyForDeadNodes) {
  const NodeLease a = state_->join(node("a"));
  state_->add_precompute(a, "p1", "c1");
  EXPECT_THROW((void)state_->mark_precomputes_lost("a"), InvalidArgument);
  EXPECT_THROW((void)state_->mark_precomputes_lost("nobody"), InvalidArgument);
  admin_sql("UPDATE pinfer_nodes SET state = 'dead' WHERE id = 'a'",
            "t" + std::to_string(db_count_));
  EXPECT_EQ(state_->mark_precomputes_lost("a"), 1u);
  EXPECT_EQ(state_->mark_precomputes_lost("a"), 0u);
  EXPECT_EQ(state_->precompute_state("p1"), PrecomputeState::lost);
}

TEST_F(ClusterStateTest, RestartedLiveNodeKeepsItsStoredPrecomputes) {
  const NodeLease a = state_->join(node("a"));
  state_->add_precompute(a, "p1", "c1");
  const NodeLease a2 = state_->join(node("a"));  // restarted before anyone declared it dead
  EXPECT_EQ(a2.epoch, a.epoch + 1);
  EXPECT_THROW(state_->take_precompute(a, "p1"), StoreError);  // the old process is fenced
  state_->take_precompute(a2, "p1");
  EXPECT_EQ(state_->precompute_state("p1"), PrecomputeState::taken);
}

TEST_F(ClusterStateTest, TakeAndConsumeAreSingleUse) {
  const NodeLease a = state_->join(node("a"));
  const NodeLease b = state_->join(node("b"));
  state_->add_precompute(a, "p1", "c1");
  EXPECT_THROW(state_->add_precompute(a, "p1", "c1"), InvalidArgument);
  EXPECT_EQ(state_->precompute_state("p1"), PrecomputeState::stored);
  EXPECT_EQ(state_->precompute_state("unknown"), std::nullopt);
  EXPECT_THROW(state_->take_precompute(b, "p1"), StoreError);        // held by another node
  EXPECT_THROW(state_->take_precompute(a, "p1", "c2"), StoreError);  // another client's
  EXPECT_EQ(state_->precompute_state("p1"), PrecomputeState::stored);
  EXPECT_THROW(state_->consume_precompute(a, "p1"), StoreError);  // not taken yet
  state_->take_precompute(a, "p1", "c1");
  try {
    state_->take_precompute(a, "p1");
    FAIL() << "took twice";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("taken"), std::string::npos) << e.what();
  }
  EXPECT_THROW(state_->consume_precompute(b, "p1"), StoreError);
  state_->consume_precompute(a, "p1");
  EXPECT_THROW(state_->consume_precompute(a, "p1"), StoreError);
  EXPECT_THROW(state_->take_precompute(a, "p1"), StoreError);
  EXPECT_THROW(state_->take_precompute(a, "unknown"), StoreError);
  EXPECT_EQ(state_->precompute_state("p1"), PrecomputeState::consumed);
}

TEST_F(ClusterStateTest, ConcurrentTakesFromTwoConnectionsExactlyOneWins) {
  const NodeLease a = state_->join(node("a"));
  constexpr int kPrecomputes = 40;
  for (int i = 0; i < kPrecomputes; ++i) {
    state_->add_precompute(a, precompute_name(i), "c1");
  }
  // Two connections (two sessions of the node, or the node and a stale copy of itself) race to
  // take every precompute, starting each round together.
  ClusterState first(url_), second(url_);
  std::vector<std::atomic<int>> wins(kPrecomputes);
  std::atomic<int> other_errors{0};
  std::atomic<int> ready{0};
  auto racer = [&](ClusterState& s) {
    for (int i = 0; i < kPrecomputes; ++i) {
      ++ready;
      while (ready.load() < 2 * (i + 1)) std::this_thread::yield();
      try {
        s.take_precompute(a, precompute_name(i));
        ++wins[static_cast<size_t>(i)];
      } catch (const StoreError&) {
      } catch (const std::exception&) {
        ++other_errors;
      }
    }
  };
  std::thread t1(racer, std::ref(first)), t2(racer, std::ref(second));
  t1.join();
  t2.join();
  EXPECT_EQ(other_errors.load(), 0);
  for (int i = 0; i < kPrecomputes; ++i) EXPECT_EQ(wins[static_cast<size_t>(i)].load(), 1) << i;
  EXPECT_EQ(state_->status().precomputes.taken, static_cast<uint64_t>(kPrecomputes));
}

TEST_F(ClusterStateTest, ClientsAreHomedAndReHomedOnTheLiveNodeWithMostFreeBytes) {
  (void)state_->join(node("a", 100));
  const NodeLease b = state_->join(node("b", 500));
  (void)state_->join(node("c", 300));
  EXPECT_EQ(state_->register_client("c1", kTokenHash), "b");
  EXPECT_EQ(state_->register_client("c2", kTokenHash, "a"), "a");
  EXPECT_THROW(state_->register_client("c3", kTokenHash, "nobody"), InvalidArgument);
  // Registering again keeps the home.
  EXPECT_EQ(state_->register_client("c2", std::string(64, 'b')), "a");
  EXPECT_EQ(state_->token_hash("c2"), std::string(64, 'b'));
  EXPECT_EQ(state_->home_node("c2"), "a");
  EXPECT_EQ(state_->home_node("nobody"), std::nullopt);

  // A draining node takes no new clients.
  state_->drain("b");
  EXPECT_EQ(state_->register_client("c4", kTokenHash), "c");
  EXPECT_THROW(state_->drain("nobody"), InvalidArgument);

  // c1's home b dies: c1 moves to the live node with the most free bytes (c: 300 > a: 100),
  // and what it had stored on b is lost.
  state_->add_precompute(b, "p1", "c1");
  silence("b");
  ASSERT_EQ(state_->mark_dead_nodes(std::chrono::seconds(60)), std::vector<std::string>{"b"});
  EXPECT_EQ(state_->rehome_client("c1"), "c");
  EXPECT_EQ(state_->home_node("c1"), "c");
  EXPECT_EQ(state_->precompute_state("p1"), PrecomputeState::lost);
  EXPECT_THROW((void)state_->rehome_client("nobody"), InvalidArgument);
}

TEST_F(ClusterStateTest, RouteClientFollowsTheHomeAndReHomesWhenItIsDead) {
  (void)state_->join(node("a", 100));
  const NodeLease b = state_->join(node("bb", 500));
  EXPECT_EQ(state_->route_client("c1"), std::nullopt);  // unknown to the cluster
  EXPECT_EQ(state_->register_client("c1", kTokenHash, "bb"), "bb");
  auto route = state_->route_client("c1");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->node_id, "bb");
  EXPECT_EQ(route->address, node("bb").address);
  EXPECT_FALSE(route->rehomed);
  state_->add_precompute(b, "p1", "c1");
  silence("bb");
  (void)state_->mark_dead_nodes(std::chrono::seconds(60));
  route = state_->route_client("c1");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->node_id, "a");
  EXPECT_EQ(route->address, node("a").address);
  EXPECT_TRUE(route->rehomed);
  EXPECT_EQ(state_->home_node("c1"), "a");
  EXPECT_EQ(state_->precompute_state("p1"), PrecomputeState::lost);
}

TEST_F(ClusterStateTest, RehomeWithNoLiveNodeIsAStoreError) {
  (void)state_->join(node("a"));
  EXPECT_EQ(state_->register_client("c1", kTokenHash), "a");
  silence("a");
  (void)state_->mark_dead_nodes(std::chrono::seconds(60));
  EXPECT_THROW((void)state_->rehome_client("c1"), StoreError);
  EXPECT_THROW((void)state_->register_client("c2", kTokenHash), StoreError);
}

TEST_F(ClusterStateTest, StatusCountsNodesClientsPrecomputesAndFreeSpace) {
  const NodeLease a = state_->join(node("a", 100));
  (void)state_->join(node("b", 500));
  (void)state_->register_client("c1", kTokenHash);
  state_->add_precompute(a, "p1", "c1");
  state_->add_precompute(a, "p2", "c1");
  state_->add_precompute(a, "p3", "c1");
  state_->take_precompute(a, "p2");
  state_->take_precompute(a, "p3");
  state_->consume_precompute(a, "p3");
  const ClusterStatus s = state_->status();
  ASSERT_EQ(s.nodes.size(), 2u);
  EXPECT_EQ(s.nodes[0].node_id, "a");
  EXPECT_EQ(s.nodes[0].stored_precomputes, 1u);
  EXPECT_EQ(s.nodes[0].address, node("a").address);
  ASSERT_EQ(s.clients.size(), 1u);
  EXPECT_EQ(s.clients[0].home_node, "b");
  EXPECT_EQ(s.precomputes.stored, 1u);
  EXPECT_EQ(s.precomputes.taken, 1u);
  EXPECT_EQ(s.precomputes.consumed, 1u);
  EXPECT_EQ(s.precomputes.lost, 0u);
  EXPECT_EQ(s.free_bytes, 600u);
  EXPECT_EQ(s.capacity_bytes, 20000u);
}

TEST_F(ClusterStateTest, DatabaseRestartIsSurvived) {
  const NodeLease a = state_->join(node("a"));
  state_->add_precompute(a, "p1", "c1");
  pg_->stop();
  EXPECT_THROW(state_->heartbeat(a, 10), IoError);
  pg_->start();
  // A read or the start of a transaction is sent again on a fresh connection at once.
  {
    ClusterState reader(url_);
    (void)reader.precompute_state("p1");
    pg_->stop();
    pg_->start();
    EXPECT_EQ(reader.precompute_state("p1"), PrecomputeState::stored);
    pg_->stop();
    pg_->start();
    reader.add_precompute(state_->join(node("b")), "pb", "c1");
  }
  // The lost connection is re-made on the next use; nothing was lost or reused.
  bool ok = false;
  for (int attempt = 0; attempt < 3 && !ok; ++attempt) {
    try {
      state_->heartbeat(a, 10);
      ok = true;
    } catch (const IoError&) {
    }
  }
  EXPECT_TRUE(ok);
  EXPECT_EQ(state_->precompute_state("p1"), PrecomputeState::stored);
  state_->take_precompute(a, "p1");
  EXPECT_THROW(state_->take_precompute(a, "p1"), StoreError);
}

// No server needed: what a bad URL or an unreachable database gives.
TEST(ClusterStateConnect, BadUrlOrUnreachableDatabaseIsAClearErrorWithoutThePassword) {
  EXPECT_THROW(ClusterState("postgresql://u:pw@host:notaport:5/db"), Error);
  try {
    ClusterState s("postgresql://alice:s3cret-pw@/fleet?host=/nonexistent-pinfer-dir&port=5432");
    FAIL() << "connected to nothing";
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot connect to the cluster database 'fleet'"), std::string::npos)
        << what;
    EXPECT_EQ(what.find("s3cret-pw"), std::string::npos) << what;
  }
  try {
    ClusterState s("host=/nonexistent-pinfer-dir password=s3cret-pw dbname=fleet");
    FAIL() << "connected to nothing";
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret-pw"), std::string::npos) << e.what();
  }
  try {
    ClusterState s("postgresql://alice:s3cret-pw@/fleet?bogus_option=1");
    FAIL() << "accepted an unknown option";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret-pw"), std::string::npos) << e.what();
  }
  // A closed loopback port: refused at once, within the connect timeout.
  EXPECT_THROW(
      ClusterState("postgresql://u@127.0.0.1:1/db", ClusterOptions{std::chrono::seconds(2)}),
      IoError);
}

}  // namespace
}  // namespace pinfer::cluster
