// ClusterNode (a server as a node of a fleet) against a private PostgreSQL server.
#include "pinfer/cluster/cluster_node.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/private_postgres.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::cluster {
namespace {

using namespace std::chrono_literals;
using cluster_test::PrivatePostgres;

NodeJoin node(const std::string& id) {
  NodeJoin n;
  n.node_id = id;
  n.address = "127.0.0.1:7001";
  n.model_digest = std::string(64, 'd');
  n.protocol = protocol::ProtocolKind::client_garbler;
  n.capacity_bytes = 5000;
  n.free_bytes = 5000;
  return n;
}

ClusterNodeOptions fast_options() {
  ClusterNodeOptions o;
  o.heartbeat_interval = 20ms;
  o.dead_after = 60'000ms;  // nobody is declared dead by accident in these tests
  return o;
}

// Polls `done` for up to 30 s (the heartbeat thread acts on its own schedule).
template <class Pred>
bool eventually(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

TEST(ClusterNode, RefusesAnUninitialisedDatabaseAndBadTimings) {
  PrivatePostgres pg;
  try {
    ClusterNode n(pg.url(), node("a"), fast_options());
    FAIL() << "joined a database without the schema";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("pinfer cluster init"), std::string::npos) << e.what();
  }
  ClusterState(pg.url()).init();
  ClusterNodeOptions bad = fast_options();
  bad.dead_after = bad.heartbeat_interval;
  EXPECT_THROW(ClusterNode(pg.url(), node("a"), bad), InvalidArgument);
}

TEST(ClusterNode, RecordsPrecomputesAndHeartbeatsFreeBytes) {
  PrivatePostgres pg;
  ClusterState admin(pg.url());
  admin.init();
  std::atomic<uint64_t> free_bytes{4000};
  ClusterNodeOptions o = fast_options();
  o.free_bytes = [&] { return free_bytes.load(); };
  ClusterNode n(pg.url(), node("a"), o);
  EXPECT_EQ(n.lease().epoch, 1u);
  free_bytes = 1234;
  EXPECT_TRUE(eventually([&] { return admin.status().nodes.at(0).free_bytes == 1234; }));

  protocol::PrecomputeLedger& ledger = n;
  ledger.stored("c1", "p1");
  EXPECT_EQ(admin.precompute_state("p1"), PrecomputeState::stored);
  ledger.take("c1", "p1");
  EXPECT_EQ(admin.precompute_state("p1"), PrecomputeState::taken);
  EXPECT_THROW(ledger.take("c1", "p1"), StoreError);
  ledger.consumed("c1", "p1");
  EXPECT_EQ(admin.precompute_state("p1"), PrecomputeState::consumed);
  ledger.consumed("c1", "p1");  // not taken any more: reported, never thrown
  EXPECT_THROW(ledger.take("c1", "unknown"), StoreError);
}

TEST(ClusterNode, RegistersClientsAuthenticatesByHashAndRedirectsToTheHome) {
  PrivatePostgres pg;
  ClusterState admin(pg.url());
  admin.init();
  NodeJoin ja = node("a"), jb = node("b");
  ja.address = "127.0.0.1:7001";
  jb.address = "127.0.0.1:7002";
  ClusterNode a(pg.url(), ja, fast_options());
  ClusterNode b(pg.url(), jb, fast_options());
  const std::string hash(64, '5');
  a.client_registered("c1", hash);
  EXPECT_EQ(admin.home_node("c1"), "a");
  EXPECT_TRUE(b.authenticate("c1", hash));
  EXPECT_FALSE(b.authenticate("c1", std::string(64, '6')));
  EXPECT_FALSE(b.authenticate("c1", "short"));
  EXPECT_FALSE(b.authenticate("nobody", hash));
  EXPECT_EQ(a.redirect_for("c1"), std::nullopt);  // a is the home
  EXPECT_EQ(b.redirect_for("c1"), "127.0.0.1:7001");
  EXPECT_EQ(b.redirect_for("nobody"), std::nullopt);  // not a fleet client: served locally
}

TEST(ClusterNode, JoinWithAnotherModelIsRefused) {
  PrivatePostgres pg;
  ClusterState(pg.url()).init();
  ClusterNode a(pg.url(), node("a"), fast_options());
  NodeJoin other = node("b");
  other.model_digest = std::string(64, 'e');
  EXPECT_THROW(ClusterNode(pg.url(), other, fast_options()), InvalidArgument);
}

TEST(ClusterNode, DeclaredDeadWhileAliveRejoinsAndNeverServesWhatItHeld) {
  PrivatePostgres pg;
  ClusterState admin(pg.url());
  admin.init();
  std::mutex log_mutex;
  std::vector<std::string> logs;
  ClusterNodeOptions o = fast_options();
  o.log = [&](std::string_view m) {
    const std::lock_guard lock(log_mutex);
    logs.emplace_back(m);
  };
  ClusterNode n(pg.url(), node("a"), o);
  n.stored("c1", "p1");
  // Another node's sweep declares it dead, as after a long pause: a sweep with a tiny window
  // catches it between two heartbeats.
  ASSERT_TRUE(eventually([&] { return !admin.mark_dead_nodes(1ms).empty(); }));
  EXPECT_EQ(admin.precompute_state("p1"), PrecomputeState::lost);
  ASSERT_TRUE(eventually([&] { return n.rejoins() >= 1; }));
  EXPECT_GE(n.lease().epoch, 3u);  // 1, dead at 2, back at 3 (or later)
  EXPECT_THROW(n.take("c1", "p1"), StoreError);
  EXPECT_EQ(admin.precompute_state("p1"), PrecomputeState::lost);
  // What it stores from now on is usable.
  n.stored("c1", "p2");
  n.take("c1", "p2");
  const std::lock_guard lock(log_mutex);
  ASSERT_FALSE(logs.empty());
  EXPECT_NE(logs.front().find("declared dead; rejoined"), std::string::npos) << logs.front();
}

TEST(ClusterNode, SurvivesADatabaseRestart) {
  PrivatePostgres pg;
  ClusterState admin(pg.url());
  admin.init();
  std::atomic<int> failures{0};
  ClusterNodeOptions o = fast_options();
  o.log = [&](std::string_view m) {
    if (m.find("heartbeat failed") != std::string_view::npos) ++failures;
  };
  ClusterNode n(pg.url(), node("a"), o);
  n.stored("c1", "p1");
  pg.stop();
  ASSERT_TRUE(eventually([&] { return failures.load() >= 1; }));
  pg.start();
  // The ledger's connection is re-made on use (a failed attempt first is allowed).
  bool taken = false;
  for (int attempt = 0; attempt < 3 && !taken; ++attempt) {
    try {
      n.take("c1", "p1");
      taken = true;
    } catch (const IoError&) {
    }
  }
  EXPECT_TRUE(taken);
  ClusterState after(pg.url());
  EXPECT_EQ(after.precompute_state("p1"), PrecomputeState::taken);
  EXPECT_TRUE(eventually([&] { return after.status().nodes.at(0).heartbeat_age_ms < 10'000; }));
}

}  // namespace
}  // namespace pinfer::cluster
