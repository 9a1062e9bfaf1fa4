// A fleet on a private PostgreSQL: `pinfer cluster init|status|drain` and two `pinfer serve
// --cluster` nodes on loopback; a client's precompute and inference through one node are
// bit-exact and the cluster records the precompute consumed; a node of another protocol is
// refused; a SIGKILLed node is declared dead (docs/DEPLOYMENT.md).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/private_postgres.hpp"
#include "fleet_node_args.hpp"
#include "pi_harness.hpp"

namespace pinfer::system_test {
namespace {

using cluster_test::PrivatePostgres;

TEST(ClusterSystem, TwoNodesServeAClientBitExactAndStatusShowsThePrecomputeConsumed) {
  PrivatePostgres pg;
  const std::string url = pg.url();
  const fs::path work = fresh_dir("cluster");

  // Before init: a pointer to `pinfer cluster init`, exit code 2.
  ClientResult r = run_pinfer(work, "status0", {"cluster", "status", "--db", url});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("pinfer cluster init"), std::string::npos) << r.err;
  r = run_pinfer(work, "init", {"cluster", "init", "--db", url});
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_pinfer(work, "init2", {"cluster", "init", "--db", url});  // idempotent
  ASSERT_EQ(r.status, 0) << r.err;

  fs::create_directories(work / "a");
  fs::create_directories(work / "b");
  ServerProcess a(work / "a", "client-garbler", fleet_node_args(url, "node-a", "127.0.0.1:17001"));
  ServerProcess b(work / "b", "client-garbler", fleet_node_args(url, "node-b", "127.0.0.1:17002"));

  // A node of another protocol is refused and exits.
  fs::create_directories(work / "c");
  r = run_pinfer(work, "serve-c",
                 {"serve",
                  "--model",
                  digits_model(),
                  "--protocol",
                  "server-garbler",
                  "--reveal",
                  "logits",
                  "--store",
                  (work / "c" / "server").string(),
                  "--capacity",
                  "1GB",
                  "--port",
                  "0",
                  "--insecure",
                  "--cluster",
                  url,
                  "--node-id",
                  "node-c",
                  "--advertise",
                  "127.0.0.1:17003"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("refusing to join"), std::string::npos) << r.err;

  // A client of node a: register, precompute, infer; the logits are bit-exact.
  HeldOutSet held(work);
  const fs::path client_store = work / "client";
  ASSERT_EQ(run_client(work, "register", "client", a.endpoint(), client_store).status, 0);
  r = run_client(work, "precompute", "precompute", a.endpoint(), client_store);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_client(work, "infer", "infer", a.endpoint(), client_store,
                 {"--input", held.input(3).string(), "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("logits_ring").get<std::vector<uint64_t>>(), held.expected_logits(3));

  r = run_pinfer(work, "status1", {"cluster", "status", "--db", url});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("nodes: 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("node-a"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("node-b"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("node-c"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("precomputes: stored 0 taken 0 consumed 1 lost 0"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("protocol client-garbler"), std::string::npos) << r.out;

  // Drain b; then SIGKILL it and have the operator's sweep declare it dead.
  r = run_pinfer(work, "drain", {"cluster", "drain", "node-b", "--db", url});
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_pinfer(work, "drain-unknown", {"cluster", "drain", "node-x", "--db", url});
  EXPECT_EQ(r.status, 2) << r.err;
  b.kill();
  std::this_thread::sleep_for(1500ms);
  r = run_pinfer(work, "status2", {"cluster", "status", "--db", url, "--dead-after-ms", "1000"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("declared node node-b dead"), std::string::npos) << r.out;
  // Node a goes on serving.
  r = run_client(work, "precompute2", "precompute", a.endpoint(), client_store);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(a.stop(), 0);
  fs::remove_all(work);
}

TEST(ClusterSystem, OtherNodesRedirectToTheHomeAndADeadHomesClientsAreReHomed) {
  PrivatePostgres pg;
  const std::string url = pg.url();
  const fs::path work = fresh_dir("cluster-route");
  ASSERT_EQ(run_pinfer(work, "init", {"cluster", "init", "--db", url}).status, 0);
  fs::create_directories(work / "a");
  fs::create_directories(work / "b");
  std::optional<ServerProcess> a;
  // On ephemeral ports (parallel tests): a advertises HOST:0 (its listener's port), b gives no
  // --advertise (its --host and port).
  a.emplace(work / "a", "client-garbler", fleet_node_args(url, "node-a", "127.0.0.1:0"));
  ServerProcess b(work / "b", "client-garbler", fleet_node_args(url, "node-b", std::nullopt));
  EXPECT_NE(a->process().stderr_text().find("as node node-a at " + a->endpoint()),
            std::string::npos)
      << a->process().stderr_text();
  EXPECT_NE(b.process().stderr_text().find("as node node-b at " + b.endpoint()), std::string::npos)
      << b.process().stderr_text();
  HeldOutSet held(work);
  const fs::path client_store = work / "client";
  // Registered through a: a is its home, and the cluster has its token hash.
  ASSERT_EQ(run_client(work, "register", "client", a->endpoint(), client_store).status, 0);
  // Through b: redirected to a, once, and served there bit-exact.
  ClientResult r = run_client(work, "precompute-b", "precompute", b.endpoint(), client_store);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("redirected to this client's home node at " + a->endpoint()),
            std::string::npos)
      << r.err;
  r = run_client(work, "infer-b", "infer", b.endpoint(), client_store,
                 {"--input", held.input(5).string(), "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("logits_ring").get<std::vector<uint64_t>>(),
            held.expected_logits(5));
  // One more precompute on a, then a dies.
  r = run_client(work, "precompute-a", "precompute", a->endpoint(), client_store);
  ASSERT_EQ(r.status, 0) << r.err;
  a->kill();
  a.reset();
  std::this_thread::sleep_for(1500ms);
  r = run_pinfer(work, "status-dead",
                 {"cluster", "status", "--db", url, "--dead-after-ms", "1000"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("declared node node-a dead"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lost 1"), std::string::npos) << r.out;
  // The client reaches b: authenticated by the fleet's token hash, re-homed on b (the only live
  // node); its precompute from a is refused (lost), a fresh one runs on demand; bit-exact.
  r = run_client(work, "infer-rehomed", "infer", b.endpoint(), client_store,
                 {"--input", held.input(6).string(), "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("logits_ring").get<std::vector<uint64_t>>(), held.expected_logits(6));
  EXPECT_EQ(r.err.find("redirected"), std::string::npos) << r.err;
  r = run_pinfer(work, "status-after", {"cluster", "status", "--db", url});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("node-b"), std::string::npos) << r.out;
  // The client's row names b as its home; 2 consumed (one on a, one on b), 1 lost.
  EXPECT_NE(r.out.find("consumed 2 lost 1"), std::string::npos) << r.out;
  EXPECT_NE(b.process().stderr_text().find("re-homed on node node-b"), std::string::npos)
      << b.process().stderr_text();
  EXPECT_EQ(b.stop(), 0);
  fs::remove_all(work);
}

TEST(ClusterSystem, DatabaseRestartUnderARunningNodeLosesAndReusesNothing) {
  PrivatePostgres pg;
  const std::string url = pg.url();
  const fs::path work = fresh_dir("cluster-restart");
  ASSERT_EQ(run_pinfer(work, "init", {"cluster", "init", "--db", url}).status, 0);
  fs::create_directories(work / "a");
  ServerProcess a(work / "a", "client-garbler", fleet_node_args(url, "node-a", "127.0.0.1:17001"));
  HeldOutSet held(work);
  const fs::path client_store = work / "client";
  ASSERT_EQ(run_client(work, "register", "client", a.endpoint(), client_store).status, 0);
  ClientResult r = run_client(work, "precompute1", "precompute", a.endpoint(), client_store);
  ASSERT_EQ(r.status, 0) << r.err;
  pg.stop();
  std::this_thread::sleep_for(500ms);  // a few refused heartbeats
  pg.start();
  // The node's connections are made again on their next use: a stored precompute is taken
  // once, a new one is recorded, and both inferences are bit-exact.
  for (int i = 0; i < 2; ++i) {
    r = run_client(work, "infer" + std::to_string(i), "infer", a.endpoint(), client_store,
                   {"--input", held.input(static_cast<std::size_t>(i)).string(), "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out).at("logits_ring").get<std::vector<uint64_t>>(),
              held.expected_logits(static_cast<std::size_t>(i)));
  }
  r = run_pinfer(work, "status", {"cluster", "status", "--db", url});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("precomputes: stored 0 taken 0 consumed 2 lost 0"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("alive"), std::string::npos) << r.out;
  EXPECT_EQ(a.stop(), 0);
  fs::remove_all(work);
}

TEST(ClusterSystem, UnreachableDatabaseIsAClearErrorNotAHang) {
  const fs::path work = fresh_dir("cluster-down");
  const ClientResult r =
      run_pinfer(work, "status",
                 {"cluster", "status", "--db",
                  "postgresql://pinfer:hunter2-secret@/fleet?host=/nonexistent-pinfer&port=5432"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("cannot connect to the cluster database 'fleet'"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("hunter2-secret"), std::string::npos) << r.err;
  const ClientResult bad = run_pinfer(work, "bad", {"cluster", "init", "--db", "not a url ==="});
  EXPECT_EQ(bad.status, 2) << bad.err;
  // A node needs its id and address; a node of a database that is down exits with the reason.
  const ClientResult no_id = run_pinfer(
      work, "no-id",
      {"serve", "--model", digits_model(), "--store", (work / "s1").string(), "--capacity", "1GB",
       "--port", "0", "--insecure", "--cluster", "postgresql://x@/db?host=/nonexistent-pinfer"});
  EXPECT_NE(no_id.status, 0);
  EXPECT_NE(no_id.err.find("--node-id"), std::string::npos) << no_id.err;
  const ClientResult down = run_pinfer(
      work, "down",
      {"serve", "--model", digits_model(), "--store", (work / "s2").string(), "--capacity", "1GB",
       "--port", "0", "--insecure", "--cluster", "postgresql://x@/db?host=/nonexistent-pinfer",
       "--node-id", "n1", "--advertise", "127.0.0.1:1"});
  EXPECT_EQ(down.status, 1) << down.err;
  // A node listening on every interface must say where clients reach it (checked before it
  // binds or connects anywhere).
  const ClientResult wildcard =
      run_pinfer(work, "wildcard",
                 {"serve", "--model", digits_model(), "--store", (work / "s3").string(),
                  "--capacity", "1GB", "--host", "0.0.0.0", "--port", "0", "--cluster",
                  "postgresql://x@/db?host=/nonexistent-pinfer", "--node-id", "n1"});
  EXPECT_EQ(wildcard.status, 2) << wildcard.err;
  EXPECT_NE(wildcard.err.find("give --advertise HOST:PORT"), std::string::npos) << wildcard.err;
  EXPECT_NE(down.err.find("cannot connect to the cluster database 'db'"), std::string::npos)
      << down.err;
  fs::remove_all(work);
}

}  // namespace
}  // namespace pinfer::system_test
