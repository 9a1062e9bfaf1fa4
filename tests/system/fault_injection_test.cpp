// Fault injection with real processes: `pinfer serve` and `pinfer precompute` / `pinfer infer`
// on the shipped digits model; the client or the server is SIGKILLed at randomized points of
// the offline and online phases, then restarted. After every kill point:
//   - no precompute was used twice: per store, every id is taken at most once (JOURNAL), and no
//     id that left ready/ ever comes back (directory snapshots, independent of the journal);
//   - no store is corrupt: both are reopened (recovery) and fully verified (scan); a killed
//     process can leave leftovers (cleaned) but never a damaged entry;
//   - the next inference succeeds, is bit-exact with the fixed-point engine, and runs on a
//     precompute id no earlier online phase used.
// PINFER_FAULT_RUNS (default 8) kill points per protocol; PINFER_FAULT_SEED replays a run
// (the seed is printed). docs/perf/reliability.md has the command for >= 200 kill points.
#include <gtest/gtest.h>

#include <iostream>

#include "pi_harness.hpp"

namespace pinfer::system_test {
namespace {

enum class Victim { client, server };
// What fires the kill: a random delay, or an observed step of the phases plus a short random
// delay. Steps are seen in the stores: a writer's tmp/ entry (offline running), the server's
// new ready/ entry (published, the client's half not yet), a consumed/ entry (online running).
enum class Trigger {
  delay,
  client_offline,
  server_offline,
  server_published,
  client_online,
  server_online
};
const char* name(Trigger t) {
  switch (t) {
    case Trigger::delay:
      return "delay";
    case Trigger::client_offline:
      return "client-offline";
    case Trigger::server_offline:
      return "server-offline";
    case Trigger::server_published:
      return "server-published";
    case Trigger::client_online:
      return "client-online";
    case Trigger::server_online:
      return "server-online";
  }
  return "?";
}

struct Tally {
  std::size_t kill_points = 0, missed = 0, reuse = 0, corrupt = 0, wrong = 0, failed = 0;
  std::size_t cleaned = 0;
  std::map<std::string, std::size_t> by_kind;
};

class FaultInjection : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    work_ = fresh_dir("fault");
    held_ = std::make_unique<HeldOutSet>(work_);
  }
  void TearDown() override {
    server_.reset();
    if (!HasFailure())
      fs::remove_all(work_);
    else
      std::cout << "work directory kept: " << work_ << "\n";
  }

  fs::path client_store() const { return work_ / "client"; }
  fs::path server_store() const { return work_ / "server"; }
  void start_server() { server_ = std::make_unique<ServerProcess>(work_, GetParam()); }

  // Audits both stores (the server must be down) and the journals; counts findings.
  void audit(const std::string& where) {
    for (const fs::path& store : {client_store(), server_store()}) {
      const StoreAudit a = audit_store(store);
      tally_.cleaned += a.cleaned;
      EXPECT_EQ(a.damaged, 0u) << where << ": damaged entries in " << store;
      EXPECT_TRUE(a.reused.empty()) << where << ": reused in " << store << ": " << a.reused[0];
      EXPECT_TRUE(a.unpublished_takes.empty()) << where << ": take without publish in " << store;
      tally_.corrupt += a.damaged;
      tally_.reuse += a.reused.size();
      // Independent of the journal: an entry that left ready/ never comes back.
      std::set<std::string>&seen = seen_[store], &gone = gone_[store];
      const std::set<std::string> now = ready_entries(store);
      for (const std::string& e : seen) {
        if (!now.count(e)) gone.insert(e);
      }
      for (const std::string& e : now) {
        EXPECT_FALSE(gone.count(e)) << where << ": " << e << " came back into " << store;
        tally_.reuse += gone.count(e);
        seen.insert(e);
      }
    }
  }

  // One inference that must succeed, be bit-exact, and use a fresh precompute id.
  void checked_inference(const std::string& tag) {
    const std::size_t image = rng_() % held_->size();
    const ClientResult r = run_client(work_, tag, "infer", server_->endpoint(), client_store(),
                                      {"--input", held_->input(image).string(), "--json"});
    EXPECT_EQ(r.status, 0) << tag << ": " << r.err;
    if (r.status != 0) {
      ++tally_.failed;
      return;
    }
    const nlohmann::json j = nlohmann::json::parse(r.out);
    const auto logits = j.at("logits_ring").get<std::vector<uint64_t>>();
    EXPECT_EQ(logits, held_->expected_logits(image)) << tag << " image " << image;
    tally_.wrong += logits != held_->expected_logits(image);
    const std::string id = j.at("precompute_id").get<std::string>();
    const bool fresh = online_ids_.insert(id).second;
    EXPECT_TRUE(fresh) << tag << ": online phase reused " << id;
    tally_.reuse += fresh ? 0 : 1;
  }

  // Waits until `trigger` is observed (or the client exits); true if it fired.
  bool wait_for_trigger(Trigger trigger, ChildProcess& client, double delay_s,
                        std::size_t server_ready_before) {
    const auto poll = [&]() -> bool {
      switch (trigger) {
        case Trigger::delay:
          return client.seconds_since_start() >= delay_s;
        case Trigger::client_offline:
          return entries_in(client_store() / "tmp") > 0;
        case Trigger::server_offline:
          return entries_in(server_store() / "tmp") > 0;
        case Trigger::server_published:
          return ready_entries(server_store()).size() > server_ready_before;
        case Trigger::client_online:
          return entries_in(client_store() / "consumed") > 0;
        case Trigger::server_online:
          return entries_in(server_store() / "consumed") > 0;
      }
      return false;
    };
    while (!poll()) {
      if (!client.running()) return false;
      std::this_thread::sleep_for(200us);
    }
    return client.running();
  }

  fs::path work_;
  std::unique_ptr<HeldOutSet> held_;
  std::unique_ptr<ServerProcess> server_;
  std::mt19937_64 rng_;
  Tally tally_;
  std::set<std::string> online_ids_;
  std::map<fs::path, std::set<std::string>> seen_, gone_;
};

TEST_P(FaultInjection, KillsNeverReuseNorCorruptAndTheNextInferenceIsCorrect) {
  const uint64_t runs = env_u64("PINFER_FAULT_RUNS", 8);
  const uint64_t seed = env_u64("PINFER_FAULT_SEED", std::random_device{}());
  std::cout << "fault injection " << GetParam() << ": PINFER_FAULT_SEED=" << seed
            << " PINFER_FAULT_RUNS=" << runs << std::endl;
  rng_.seed(seed);

  start_server();
  ASSERT_EQ(run_client(work_, "register", "client", server_->endpoint(), client_store()).status, 0);
  // Calibration: how long each command takes here bounds the random delays.
  auto timed = [&](const std::string& command, std::vector<std::string> extra) {
    const auto t0 = std::chrono::steady_clock::now();
    const ClientResult r = run_client(work_, "calibrate-" + command, command, server_->endpoint(),
                                      client_store(), std::move(extra));
    EXPECT_EQ(r.status, 0) << r.err;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const double precompute_s = timed("precompute", {"--count", "2"});
  const double infer_s =
      timed("infer", {"--input", held_->input(0).string(), "--json"});    // a stored one
  (void)timed("infer", {"--input", held_->input(1).string(), "--json"});  // the second one
  const double on_demand_s =
      timed("infer", {"--input", held_->input(2).string(), "--json"});  // none left
  std::cout << "calibration: precompute x2 " << precompute_s << " s, infer " << infer_s
            << " s, infer with offline on demand " << on_demand_s << " s" << std::endl;

  // Attempts whose command finished before the kill fired are not kill points; a bounded
  // number of attempts reaches `runs` kill points.
  for (uint64_t run = 0; tally_.kill_points < runs && run < 4 * runs + 8; ++run) {
    const bool infer = rng_() % 2 == 0;
    const Victim victim = rng_() % 2 == 0 ? Victim::client : Victim::server;
    Trigger trigger = Trigger::delay;
    if (rng_() % 2 == 0) {
      static constexpr Trigger kOffline[] = {Trigger::client_offline, Trigger::server_offline,
                                             Trigger::server_published};
      static constexpr Trigger kAny[] = {Trigger::client_offline, Trigger::server_offline,
                                         Trigger::server_published, Trigger::client_online,
                                         Trigger::server_online};
      trigger = infer ? kAny[rng_() % 5] : kOffline[rng_() % 3];
    }
    const auto extra_us = std::chrono::microseconds(rng_() % 3000);
    if (infer && rng_() % 2 == 0) {
      // Sometimes with a stored precompute, so the online phase starts right away.
      EXPECT_EQ(
          run_client(work_, "stock", "precompute", server_->endpoint(), client_store()).status, 0);
    }
    const bool stocked = !ready_entries(client_store()).empty();
    const double span = !infer ? precompute_s : stocked ? infer_s * 1.2 : on_demand_s * 1.2;
    const double delay_s = std::uniform_real_distribution<double>(0, span)(rng_);
    const std::string tag = "run" + std::to_string(run);
    const std::size_t server_ready_before = ready_entries(server_store()).size();
    auto client = start_client(
        work_, tag, infer ? "infer" : "precompute", server_->endpoint(), client_store(),
        infer ? std::vector<std::string>{"--input", held_->input(run % held_->size()).string()}
              : std::vector<std::string>{"--count", "2"});
    bool fired = wait_for_trigger(trigger, *client, delay_s, server_ready_before);
    if (fired && trigger != Trigger::delay) std::this_thread::sleep_for(extra_us);
    fired = fired && client->running();
    const std::string kind = std::string(infer ? "infer" : "precompute") + "/" +
                             (victim == Victim::client ? "client" : "server") + "/" + name(trigger);
    if (!fired) {
      ++tally_.missed;  // the command finished first: not a kill point
      const auto st = client->wait_for(120s);
      EXPECT_EQ(st.value_or(-1), 0) << tag << ": " << client->stderr_text();
    } else {
      ++tally_.kill_points;
      ++tally_.by_kind[kind];
      if (victim == Victim::client) {
        client->signal(SIGKILL);
        (void)client->wait_for(60s);
      } else {
        server_->kill();
        // The client must notice and give up (not hang) ...
        const auto st = client->wait_for(60s);
        EXPECT_TRUE(st.has_value()) << tag << ": client hung after the server died";
      }
    }
    // ... then: stores consistent, no reuse, the next inference correct.
    if (victim == Victim::client || !fired) {
      EXPECT_EQ(server_->stop(), 0);
    }
    audit(tag + " (" + kind + ")");
    start_server();
    checked_inference(tag + "-after");
    if (HasFailure()) {
      std::cout << "failed at " << tag << " (" << kind << "), seed " << seed << "\n";
      break;
    }
  }
  EXPECT_EQ(server_->stop(), 0);
  audit("final");
  std::cout << "fault injection " << GetParam() << ": " << tally_.kill_points << " kill points ("
            << tally_.missed << " missed: the command finished first), reuse " << tally_.reuse
            << ", corrupt " << tally_.corrupt << ", wrong outputs " << tally_.wrong
            << ", failed inferences " << tally_.failed << ", leftovers cleaned " << tally_.cleaned
            << "\n";
  for (const auto& [k, n] : tally_.by_kind) std::cout << "  " << k << ": " << n << "\n";
  EXPECT_EQ(tally_.kill_points, runs);
}

INSTANTIATE_TEST_SUITE_P(Protocols, FaultInjection,
                         ::testing::Values("server-garbler", "client-garbler"),
                         [](const auto& info) {
                           return info.param == "server-garbler" ? "ServerGarbler"
                                                                 : "ClientGarbler";
                         });

}  // namespace
}  // namespace pinfer::system_test
