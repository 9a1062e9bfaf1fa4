// The real arrival-driven load run, both protocols in one process over in-memory channels: every
// arrival of the simulator's sequence is served once, in order per client, bit-exact, and a
// store that holds one precompute puts offline work on the critical path.
#include "pinfer/characterize/arrival_run.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <list>
#include <mutex>
#include <thread>

#include "pinfer/core/error.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/sim/arrivals.hpp"
#include "protocol/test_models.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
using namespace pinfer::store;

namespace {

// A server answering every connection on a thread of its own, as the TCP service does.
class ThreadedServer {
 public:
  ThreadedServer(const nn::LoweredModel& model, ProtocolKind kind, uint64_t quota)
      : store_(dir_ / "server",
               {.capacity_bytes = uint64_t{1} << 34, .per_client_capacity_bytes = quota}),
        registry_(dir_ / "server" / "CLIENTS"),
        server_(model, kind, store_, registry_) {}
  ~ThreadedServer() {
    for (auto& t : threads_) t.join();
    fs::remove_all(dir_);
  }
  std::unique_ptr<Channel> connect() {
    auto [a, b] = make_memory_channel_pair();
    std::lock_guard lock(mu_);
    server_ends_.push_back(std::move(b));
    Channel& end = *server_ends_.back();
    threads_.emplace_back([this, &end] {
      try {
        server_.serve_connection(end);
      } catch (const Error&) {
        // A closed session: the client side reports what matters.
      }
    });
    return std::move(a);
  }
  ClientRegistry& registry() { return registry_; }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_ = fs::temp_directory_path() / ("pinfer-arrivals-test-" + new_precompute_id());
  PrecomputeStore store_;
  ClientRegistry registry_;
  InferenceServer server_;
  std::mutex mu_;
  std::list<std::unique_ptr<Channel>> server_ends_;
  std::list<std::thread> threads_;
};

struct Fixture {
  Fixture(ProtocolKind kind, uint32_t k, uint64_t client_capacity, uint64_t server_quota)
      : model(test_models::small_test_model(5)), server(model, kind, server_quota) {
    for (uint32_t i = 0; i < k; ++i) {
      stores.push_back(std::make_unique<PrecomputeStore>(
          server.dir() / ("client" + std::to_string(i)), StoreLimits{client_capacity, 0}));
      clients.push_back({[this] { return server.connect(); }, server.registry().register_client({}),
                         stores.back().get()});
    }
  }
  nn::LoweredModel model;
  ThreadedServer server;
  std::vector<std::unique_ptr<PrecomputeStore>> stores;
  std::vector<characterize::ArrivalClient> clients;
};

class ArrivalRun : public ::testing::TestWithParam<ProtocolKind> {};

TEST_P(ArrivalRun, ServesEveryArrivalOnceInOrderBitExact) {
  Fixture f(GetParam(), 2, uint64_t{1} << 32, uint64_t{1} << 32);
  characterize::ArrivalSettings s;
  s.protocol = GetParam();
  s.rate_per_client = 4;
  s.duration_s = 1.5;
  s.seed = 7;
  s.policy = sim::PrecomputePolicy::eager;
  const characterize::ArrivalRunResult r = characterize::run_arrivals(f.model, f.clients, s);
  std::size_t expected = 0;
  for (uint32_t c = 0; c < 2; ++c) expected += sim::poisson_arrival_times(4, 7, c, 1.5).size();
  ASSERT_GT(expected, 0u);
  EXPECT_EQ(r.arrivals, expected);
  EXPECT_EQ(r.requests.size(), expected);
  EXPECT_EQ(r.unserved, 0u);
  EXPECT_GE(r.precomputes_made, expected);
  std::vector<double> last_end(2, 0.0);
  std::vector<std::size_t> next(2, 0);
  for (const auto& q : r.requests) {
    EXPECT_TRUE(q.bit_exact);
    ASSERT_LT(q.client, 2u);
    // The simulator's arrival sequence of this client, in order.
    const auto times = sim::poisson_arrival_times(4, 7, q.client, 1.5);
    EXPECT_EQ(q.arrival_s, times.at(next[q.client]++));
    EXPECT_GE(q.start_s, q.arrival_s);
    EXPECT_GE(q.start_s, last_end[q.client]);  // one at a time per client
    EXPECT_GE(q.offline_wait_s, 0.0);
    EXPECT_GT(q.end_s, q.start_s + q.offline_wait_s);
    last_end[q.client] = q.end_s;
  }
}

// Stores start empty, as the simulator's do: a request arriving before the first offline phase
// is done waits for it, and that wait is offline work on the critical path.
TEST_P(ArrivalRun, EarlyRequestsWaitForTheFirstPrecompute) {
  Fixture f(GetParam(), 1, uint64_t{1} << 32, uint64_t{1} << 32);
  characterize::ArrivalSettings s;
  s.protocol = GetParam();
  s.rate_per_client = 50;  // the first arrival comes long before an offline phase can end
  s.duration_s = 0.3;
  s.seed = 3;
  s.policy = sim::PrecomputePolicy::poll;
  s.poll_interval_s = 0.05;
  const characterize::ArrivalRunResult r = characterize::run_arrivals(f.model, f.clients, s);
  ASSERT_FALSE(r.requests.empty());
  const auto& first = r.requests.front();
  EXPECT_GT(first.offline_wait_s, 0.0);
  // It could not start before the first poll tick, so it waited at least that long.
  EXPECT_GE(first.start_s + first.offline_wait_s, 0.05);
}

TEST(ArrivalRunSettings, BadSettingsAreRefused) {
  Fixture f(ProtocolKind::client_garbler, 1, uint64_t{1} << 32, 0);
  characterize::ArrivalSettings s;
  s.rate_per_client = 0;
  EXPECT_THROW((void)characterize::run_arrivals(f.model, f.clients, s), InvalidArgument);
  s.rate_per_client = 1;
  s.duration_s = -1;
  EXPECT_THROW((void)characterize::run_arrivals(f.model, f.clients, s), InvalidArgument);
  std::vector<characterize::ArrivalClient> none;
  s.duration_s = 1;
  EXPECT_THROW((void)characterize::run_arrivals(f.model, none, s), InvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(BothProtocols, ArrivalRun,
                         ::testing::Values(ProtocolKind::server_garbler,
                                           ProtocolKind::client_garbler));

}  // namespace
