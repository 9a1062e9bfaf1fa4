// Engine primitives: ordering, containers, queues, processor sharing, and an M/M/1 queue built
// from them checked against the closed form.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/sim/random.hpp"
#include "sim/container.hpp"
#include "sim/engine.hpp"
#include "sim/fifo_queue.hpp"
#include "sim/shared_resource.hpp"
#include "sim/signal.hpp"

namespace pinfer::sim {
namespace {

Task sleeper(Engine& e, double dt, std::vector<std::pair<double, int>>& log, int id) {
  co_await e.timeout(dt);
  log.emplace_back(e.now(), id);
}

TEST(Engine, EventsRunInTimeThenInsertionOrder) {
  Engine e;
  std::vector<std::pair<double, int>> log;
  e.spawn(sleeper(e, 2.0, log, 0));
  e.spawn(sleeper(e, 1.0, log, 1));
  e.spawn(sleeper(e, 1.0, log, 2));
  e.spawn(sleeper(e, 5.0, log, 3));
  e.run_until(5.0);  // the event at exactly 5.0 is not run (SimPy's until semantics)
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0], std::make_pair(1.0, 1));
  EXPECT_EQ(log[1], std::make_pair(1.0, 2));
  EXPECT_EQ(log[2], std::make_pair(2.0, 0));
  EXPECT_EQ(e.now(), 5.0);
}

Task child(Engine& e, double dt, bool fail) {
  co_await e.timeout(dt);
  if (fail) throw InvalidArgument("child failed");
}

Task parent(Engine& e, double& done_at, bool& caught) {
  co_await child(e, 1.5, false);
  co_await child(e, 2.0, false);
  done_at = e.now();
  try {
    co_await child(e, 1.0, true);
  } catch (const InvalidArgument&) {
    caught = true;
  }
}

TEST(Engine, SubProcessesResumeTheirParentAndPropagateErrors) {
  Engine e;
  double done_at = -1;
  bool caught = false;
  e.spawn(parent(e, done_at, caught));
  e.run_until(100);
  EXPECT_EQ(done_at, 3.5);
  EXPECT_TRUE(caught);
}

Task failing(Engine& e) {
  co_await e.timeout(1);
  throw StoreError("boom");
}

TEST(Engine, ErrorInTopLevelProcessIsRethrownByRun) {
  Engine e;
  e.spawn(failing(e));
  EXPECT_THROW(e.run_until(10), StoreError);
}

TEST(Engine, NegativeTimeoutIsRejected) {
  Engine e;
  EXPECT_THROW((void)e.timeout(-1.0), InvalidArgument);
}

Task producer(Engine& e, Container& c, uint64_t amount, int count) {
  for (int i = 0; i < count; ++i) {
    co_await c.put(amount);
    co_await e.timeout(1);
  }
}

Task consumer(Engine& e, Container& c, uint64_t amount, std::vector<double>& got) {
  while (true) {
    co_await e.timeout(3);
    co_await c.get(amount);
    got.push_back(e.now());
  }
}

TEST(Container, PutWaitsForRoomAndLevelNeverExceedsCapacity) {
  Engine e;
  Container c(e, 10);
  std::vector<double> got;
  e.spawn(producer(e, c, 4, 6));
  e.spawn(consumer(e, c, 4, got));
  e.run_until(100);
  EXPECT_EQ(c.peak_level(), 8u);  // a third put of 4 must wait for a get
  EXPECT_LE(c.peak_level(), c.capacity());
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(c.level(), 0u);
  EXPECT_THROW((void)c.put(11), InvalidArgument);
  EXPECT_THROW(Container(e, 5, 6), InvalidArgument);
}

Task taker(FifoQueue<int>& q, std::vector<int>& out) {
  while (true) out.push_back(co_await q.get());
}

TEST(FifoQueue, ItemsComeOutInOrder) {
  Engine e;
  FifoQueue<int> q(e);
  std::vector<int> out;
  for (int i = 0; i < 5; ++i) q.put(i);
  e.spawn(taker(q, out));
  e.run_until(1);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(q.size(), 0u);
}

Task job(Engine& e, SharedResource& r, double start, double work, double cap, double& end) {
  co_await e.timeout(start);
  co_await r.use(work, cap);
  end = e.now();
}

TEST(SharedResource, ProcessorSharingWithCaps) {
  Engine e;
  SharedResource link(e, 10.0);  // e.g. 10 bytes/s
  double a = 0, b = 0, c = 0;
  // a alone at full rate for 1 s (10 units), then shares with b at 5/s each.
  e.spawn(job(e, link, 0.0, 30.0, 100.0, a));
  e.spawn(job(e, link, 1.0, 10.0, 100.0, b));
  // c is capped at 1/s: it takes 1/s, the others split the remaining 9.
  e.spawn(job(e, link, 1.0, 1.0, 1.0, c));
  e.run_until(100);
  // From t=1: rates a=4.5, b=4.5, c=1 (c finishes at t=2). Then a=b=5: b has 10-4.5=5.5 left,
  // finishing at 2 + 1.1 = 3.1; a has 20-4.5-5.5 = 10 left at 3.1, alone at 10/s -> 4.1.
  EXPECT_NEAR(c, 2.0, 1e-9);
  EXPECT_NEAR(b, 3.1, 1e-9);
  EXPECT_NEAR(a, 4.1, 1e-9);
  EXPECT_NEAR(link.served_work(), 41.0, 1e-6);
}

TEST(SharedResource, InfiniteCapacityRunsEachJobAtItsCap) {
  Engine e;
  SharedResource cpu(e, std::numeric_limits<double>::infinity());
  double a = 0, b = 0;
  e.spawn(job(e, cpu, 0.0, 8.0, 4.0, a));
  e.spawn(job(e, cpu, 0.0, 3.0, 1.0, b));
  e.run_until(100);
  EXPECT_NEAR(a, 2.0, 1e-12);
  EXPECT_NEAR(b, 3.0, 1e-12);
  EXPECT_THROW((void)cpu.use(1.0, std::numeric_limits<double>::infinity()), InvalidArgument);
}

Task waiter(Signal& s, Engine& e, double& woke) {
  co_await s.wait();
  woke = e.now();
}

Task notifier(Signal& s, Engine& e) {
  co_await e.timeout(7);
  s.notify();
}

TEST(Signal, NotifyWakesWaiters) {
  Engine e;
  Signal s(e);
  double woke = -1;
  e.spawn(waiter(s, e, woke));
  e.spawn(notifier(s, e));
  e.run_until(100);
  EXPECT_EQ(woke, 7.0);
}

// --- M/M/1 from engine primitives ------------------------------------------------------------

struct QueueStats {
  double wait_sum = 0;
  uint64_t n = 0;
};

Task poisson_source(Engine& e, FifoQueue<double>& q, SimRandom& rng, double lambda) {
  while (true) {
    co_await e.timeout(rng.exponential(lambda));
    q.put(e.now());
  }
}

Task exp_server(Engine& e, FifoQueue<double>& q, SimRandom& rng, double mu, QueueStats& st) {
  while (true) {
    const double arrival = co_await q.get();
    st.wait_sum += e.now() - arrival;
    ++st.n;
    co_await e.timeout(rng.exponential(mu));
  }
}

double mm1_mean_wait(double rho, double horizon_s, uint64_t seed) {
  Engine e;
  FifoQueue<double> q(e);
  SimRandom arrivals(mix_seed(seed, 0));
  SimRandom service(mix_seed(seed, 1));
  QueueStats st;
  e.spawn(poisson_source(e, q, arrivals, rho));
  e.spawn(exp_server(e, q, service, 1.0, st));
  e.run_until(horizon_s);
  return st.wait_sum / static_cast<double>(st.n);
}

// Closed form (Kleinrock, Queueing Systems I, sec. 3.2): Wq = rho / (mu - lambda), mu = 1.
// Run lengths: the asymptotic variance of the M/M/1 mean wait is
// rho (2 + 5 rho - 4 rho^2 + rho^3) / (mu^2 (1 - rho)^4) per customer (Blomqvist 1967), so
// 1.5M customers at rho = 0.5 and 3.2M at rho = 0.8 put 2% at about 3.6 and 3.2 standard errors.
TEST(QueueingSanity, MM1MeanWaitMatchesClosedFormAtHalfLoad) {
  const double rho = 0.5;
  const double wq = mm1_mean_wait(rho, 3.0e6, 11);
  EXPECT_NEAR(wq, rho / (1.0 - rho), 0.02 * rho / (1.0 - rho));
}

TEST(QueueingSanity, MM1MeanWaitMatchesClosedFormAtHighLoad) {
  const double rho = 0.8;
  const double wq = mm1_mean_wait(rho, 4.0e6, 12);
  EXPECT_NEAR(wq, rho / (1.0 - rho), 0.02 * rho / (1.0 - rho));
}

}  // namespace
}  // namespace pinfer::sim
