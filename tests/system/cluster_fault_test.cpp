// Faults in a fleet of three `pinfer serve --cluster` nodes on a private PostgreSQL, with many
// clients (issue 17, part 5; docs/DEPLOYMENT.md):
// - a node SIGKILLed while one of its clients runs an offline phase and another an online phase:
//   the two requests fail with an error (no hang), the other nodes' clients are served
//   throughout, the dead node's clients are re-homed and served bit-exact, and no precompute
//   is ever used twice (the cluster's ledger: every inference consumed exactly one precompute,
//   the one taken when the node died is lost, not consumed);
// - a node that comes back after being declared dead (SIGSTOP past --dead-after-ms, SIGCONT):
//   it rejoins under a new epoch and serves none of the precomputes it held.
// The nodes listen on ephemeral ports and advertise them themselves (--advertise HOST:0, or no
// --advertise at all).
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/private_postgres.hpp"
#include "fleet_node_args.hpp"
#include "pi_harness.hpp"

namespace pinfer::system_test {
namespace {

using cluster_test::PrivatePostgres;

// The client id `pinfer client register` printed.
std::string registered_id(const ClientResult& r) {
  const std::string key = "registered as client ";
  const auto at = r.out.find(key);
  if (at == std::string::npos) return {};
  return r.out.substr(at + key.size(), r.out.find(' ', at + key.size()) - at - key.size());
}

// Polls `sql` (one text value) until it equals `want`; false after `limit`.
bool wait_for_value(const PrivatePostgres& pg, const std::string& sql, const std::string& want,
                    std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto rows = pg.query(sql);
    if (!rows.empty() && !rows[0].empty() && rows[0][0] == want) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::string count_of(const PrivatePostgres& pg, const std::string& where) {
  return pg.query("SELECT count(*) FROM pinfer_precomputes WHERE " + where).at(0).at(0);
}

// Long enough that a loaded machine (nine clients, three nodes, two cores) never delays a live
// node's heartbeat past it; short enough for the test.
constexpr uint64_t kDeadAfterMs = 3000;

struct FleetClient {
  fs::path store;
  std::string id;
  std::string home;  // node id at registration
};

std::vector<uint64_t> logits_of(const ClientResult& r) {
  return nlohmann::json::parse(r.out).at("logits_ring").get<std::vector<uint64_t>>();
}

std::string query_value(const PrivatePostgres& pg, const std::string& sql) {
  const auto rows = pg.query(sql);
  return rows.empty() || rows[0].empty() ? std::string() : rows[0][0];
}

TEST(ClusterFaults, ThreeNodesManyClientsSurviveASigkillMidPrecomputeAndMidInference) {
  PrivatePostgres pg;
  const std::string url = pg.url();
  const fs::path work = fresh_dir("cluster-faults");
  ASSERT_EQ(run_pinfer(work, "init", {"cluster", "init", "--db", url}).status, 0);
  // Three nodes; a advertises --host and its port (no --advertise), b and c HOST:0.
  const std::vector<std::string> ids = {"node-a", "node-b", "node-c"};
  std::map<std::string, std::unique_ptr<ServerProcess>> nodes;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    fs::create_directories(work / ids[i]);
    nodes[ids[i]] = std::make_unique<ServerProcess>(
        work / ids[i], "client-garbler",
        fleet_node_args(url, ids[i],
                        i == 0 ? std::nullopt : std::optional<std::string>("127.0.0.1:0"),
                        kDeadAfterMs));
  }
  const std::string a_endpoint = nodes["node-a"]->endpoint();
  const std::string b_endpoint = nodes["node-b"]->endpoint();
  HeldOutSet held(work);

  // Nine clients, client k registered through node k % 3, which becomes its home.
  constexpr std::size_t kClients = 9;
  std::vector<FleetClient> clients(kClients);
  for (std::size_t k = 0; k < kClients; ++k) {
    FleetClient& c = clients[k];
    c.store = work / ("client" + std::to_string(k));
    c.home = ids[k % ids.size()];
    const ClientResult r = run_client(work, "register" + std::to_string(k), "client",
                                      nodes[c.home]->endpoint(), c.store);
    ASSERT_EQ(r.status, 0) << r.err;
    c.id = registered_id(r);
    ASSERT_FALSE(c.id.empty()) << r.out;
  }
  // Spread over the nodes: three homes each.
  const auto homes =
      pg.query("SELECT home_node, count(*) FROM pinfer_clients GROUP BY home_node ORDER BY 1");
  ASSERT_EQ(homes.size(), 3u);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(homes[i], (std::vector<std::string>{ids[i], "3"}));
  }
  // Each buffers one precompute at its home, all at once.
  {
    std::vector<std::unique_ptr<ChildProcess>> running;
    for (std::size_t k = 0; k < kClients; ++k) {
      running.push_back(start_client(work, "precompute" + std::to_string(k), "precompute",
                                     nodes[clients[k].home]->endpoint(), clients[k].store));
    }
    for (auto& p : running) {
      const auto st = p->wait_for(180s);
      ASSERT_TRUE(st.has_value() && *st == 0) << p->stderr_text();
    }
  }
  ASSERT_EQ(count_of(pg, "state = 'stored'"), "9");

  // On node a: client 0 runs an offline phase and client 3 an online phase, both on a slow
  // uplink, so both are under way when a is SIGKILLed. Meanwhile the clients of b and c infer.
  auto slow_precompute = start_client(work, "victim-precompute", "precompute", a_endpoint,
                                      clients[0].store, {"--uplink-mbps", "2"});
  const auto slow_precompute_started = std::chrono::steady_clock::now();
  auto slow_infer =
      start_client(work, "victim-infer", "infer", a_endpoint, clients[3].store,
                   {"--input", held.input(3).string(), "--json", "--uplink-mbps", "1"});
  std::vector<std::pair<std::size_t, std::unique_ptr<ChildProcess>>> others;
  for (const std::size_t k : {1, 2, 4, 5, 7, 8}) {
    others.emplace_back(k, start_client(work, "infer" + std::to_string(k), "infer",
                                        nodes[clients[k].home]->endpoint(), clients[k].store,
                                        {"--input", held.input(k).string(), "--json"}));
  }
  // Client 3's online phase has begun: its precompute is taken.
  ASSERT_TRUE(wait_for_value(
      pg, "SELECT state FROM pinfer_precomputes WHERE client_id = '" + clients[3].id + "'", "taken",
      60s));
  std::this_thread::sleep_until(slow_precompute_started + 1500ms);
  ASSERT_TRUE(slow_precompute->running()) << slow_precompute->stderr_text();
  ASSERT_TRUE(slow_infer->running()) << slow_infer->stderr_text();
  nodes["node-a"]->kill();

  // Both requests on a fail with an error, promptly; nothing crashes.
  for (ChildProcess* victim : {slow_precompute.get(), slow_infer.get()}) {
    const auto st = victim->wait_for(60s);
    ASSERT_TRUE(st.has_value()) << "a client of the killed node hangs";
    EXPECT_EQ(*st, 1) << victim->stderr_text();
    EXPECT_NE(victim->stderr_text().find("pinfer: "), std::string::npos) << victim->stderr_text();
  }
  // The other nodes' clients were served, bit-exact.
  for (auto& [k, p] : others) {
    const auto st = p->wait_for(180s);
    ASSERT_TRUE(st.has_value() && *st == 0) << p->stderr_text();
    EXPECT_EQ(
        nlohmann::json::parse(p->stdout_text()).at("logits_ring").get<std::vector<uint64_t>>(),
        held.expected_logits(k));
  }

  // The survivors declare a dead; what it held is lost, and the killed offline phase recorded
  // nothing (client 0 has only its earlier precompute).
  ASSERT_TRUE(
      wait_for_value(pg, "SELECT state FROM pinfer_nodes WHERE id = 'node-a'", "dead", 30s));
  EXPECT_EQ(count_of(pg, "node_id = 'node-a' AND state IN ('stored', 'taken')"), "0");
  EXPECT_EQ(count_of(pg, "client_id = '" + clients[3].id + "' AND state = 'lost'"), "1");
  EXPECT_EQ(count_of(pg, "client_id = '" + clients[0].id + "'"), "1");

  // Every client now infers through node b: a's clients are re-homed on a live node (their
  // precomputes on a are refused, fresh ones run), c's are redirected to c; all bit-exact.
  for (std::size_t k = 0; k < kClients; ++k) {
    const std::size_t input = 20 + k;
    const ClientResult r =
        run_client(work, "after" + std::to_string(k), "infer", b_endpoint, clients[k].store,
                   {"--input", held.input(input).string(), "--json"});
    ASSERT_EQ(r.status, 0) << "client " << k << ": " << r.err;
    EXPECT_EQ(logits_of(r), held.expected_logits(input)) << "client " << k;
    if (clients[k].home == "node-c") {
      EXPECT_NE(
          r.err.find("redirected to this client's home node at " + nodes["node-c"]->endpoint()),
          std::string::npos)
          << r.err;
    }
  }
  EXPECT_EQ(query_value(pg,
                        "SELECT count(*) FROM pinfer_clients c JOIN pinfer_nodes n ON "
                        "c.home_node = n.id WHERE n.state = 'alive'"),
            "9");
  // Single use across the fleet: the 6 inferences during the fault and the 9 after consumed
  // one precompute each; the 3 on a (one of them taken when a died) are lost, none consumed.
  EXPECT_EQ(count_of(pg, "state = 'consumed'"), "15");
  EXPECT_EQ(count_of(pg, "state = 'lost'"), "3");
  EXPECT_EQ(count_of(pg, "node_id = 'node-a' AND state = 'consumed'"), "0");
  EXPECT_EQ(count_of(pg, "state IN ('stored', 'taken')"), "0");
  EXPECT_EQ(nodes["node-b"]->stop(), 0);
  EXPECT_EQ(nodes["node-c"]->stop(), 0);
  fs::remove_all(work);
}

TEST(ClusterFaults, ANodeBackFromTheDeadServesNoneOfThePrecomputesItHeld) {
  PrivatePostgres pg;
  const std::string url = pg.url();
  const fs::path work = fresh_dir("cluster-undead");
  ASSERT_EQ(run_pinfer(work, "init", {"cluster", "init", "--db", url}).status, 0);
  fs::create_directories(work / "a");
  fs::create_directories(work / "b");
  ServerProcess a(work / "a", "client-garbler",
                  fleet_node_args(url, "node-a", std::nullopt, kDeadAfterMs));
  ServerProcess b(work / "b", "client-garbler",
                  fleet_node_args(url, "node-b", "127.0.0.1:0", kDeadAfterMs));
  HeldOutSet held(work);
  const fs::path store = work / "client";
  const ClientResult reg = run_client(work, "register", "client", a.endpoint(), store);
  ASSERT_EQ(reg.status, 0) << reg.err;
  const std::string client = registered_id(reg);
  for (int i = 0; i < 2; ++i) {
    const ClientResult r =
        run_client(work, "precompute" + std::to_string(i), "precompute", a.endpoint(), store);
    ASSERT_EQ(r.status, 0) << r.err;
  }
  const std::string epoch = query_value(pg, "SELECT epoch FROM pinfer_nodes WHERE id = 'node-a'");

  // a stops (a long pause: no heartbeat) until b's sweep declares it dead.
  a.process().signal(SIGSTOP);
  ASSERT_TRUE(
      wait_for_value(pg, "SELECT state FROM pinfer_nodes WHERE id = 'node-a'", "dead", 30s));
  EXPECT_EQ(count_of(pg, "node_id = 'node-a' AND state = 'lost'"), "2");
  // Back: its next heartbeat is refused (fenced), and it rejoins under a new epoch.
  a.process().signal(SIGCONT);
  ASSERT_TRUE(
      wait_for_value(pg, "SELECT state FROM pinfer_nodes WHERE id = 'node-a'", "alive", 30s));
  EXPECT_GT(std::stoull(query_value(pg, "SELECT epoch FROM pinfer_nodes WHERE id = 'node-a'")),
            std::stoull(epoch));
  EXPECT_NE(a.process().stderr_text().find("node node-a was declared dead; rejoined at epoch"),
            std::string::npos)
      << a.process().stderr_text();

  // The client, still homed on a, infers there: both precomputes a holds on disk are refused,
  // a fresh one runs; bit-exact. Neither old one is ever consumed.
  const ClientResult r = run_client(work, "infer", "infer", a.endpoint(), store,
                                    {"--input", held.input(7).string(), "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(logits_of(r), held.expected_logits(7));
  EXPECT_EQ(count_of(pg, "client_id = '" + client + "' AND state = 'lost'"), "2");
  EXPECT_EQ(count_of(pg, "client_id = '" + client + "' AND state = 'consumed'"), "1");
  EXPECT_EQ(count_of(pg, "state IN ('stored', 'taken')"), "0");
  EXPECT_EQ(a.stop(), 0);
  EXPECT_EQ(b.stop(), 0);
  fs::remove_all(work);
}

}  // namespace
}  // namespace pinfer::system_test
