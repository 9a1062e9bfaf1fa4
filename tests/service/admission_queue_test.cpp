// The admission queue on its own: FIFO admission as sessions end, places, a full queue refused
// with a retry-after hint from the observed session times, departures that free their place,
// and a close that wakes every waiter. No sockets and no timing: the tests say how long each
// session took, and waits that must not block are given a deadline already past.
#include "service/admission_queue.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "pinfer/core/error.hpp"

using namespace pinfer;
using namespace pinfer::service;
using namespace std::chrono_literals;

namespace {

using Outcome = AdmissionQueue::Outcome;
using Wake = AdmissionQueue::Wake;

// A deadline already past: wait() reports what is true now without blocking.
AdmissionQueue::Clock::time_point now() {
  return AdmissionQueue::Clock::now();
}

TEST(AdmissionQueue, AdmitsAtOnceUpToMaxSessionsThenQueuesInOrder) {
  AdmissionQueue q({.max_sessions = 2, .max_queued = 3});
  const auto a = q.arrive(), b = q.arrive();
  EXPECT_EQ(a.outcome, Outcome::admitted);
  EXPECT_EQ(b.outcome, Outcome::admitted);
  const auto c = q.arrive(), d = q.arrive(), e = q.arrive();
  ASSERT_EQ(c.outcome, Outcome::queued);
  ASSERT_EQ(d.outcome, Outcome::queued);
  ASSERT_EQ(e.outcome, Outcome::queued);
  EXPECT_EQ(c.position, 1u);
  EXPECT_EQ(d.position, 2u);
  EXPECT_EQ(e.position, 3u);
  EXPECT_EQ(q.counts().active, 2u);
  EXPECT_EQ(q.counts().waiting, 3u);
  // Sessions end in any order; the queue is served first come, first served.
  q.release(b.ticket, 1s);
  EXPECT_EQ(q.wait(c.ticket, 1, now()).wake, Wake::admitted);
  EXPECT_EQ(q.position(d.ticket), 1u);
  EXPECT_EQ(q.position(e.ticket), 2u);
  q.release(a.ticket, 1s);
  EXPECT_EQ(q.wait(d.ticket, 1, now()).wake, Wake::admitted);
  EXPECT_EQ(q.wait(e.ticket, 2, now()).wake, Wake::moved);
  EXPECT_EQ(q.position(e.ticket), 1u);
  q.release(c.ticket, 1s);
  EXPECT_EQ(q.wait(e.ticket, 1, now()).wake, Wake::admitted);
  EXPECT_EQ(q.counts().admitted_at_once, 2u);
  EXPECT_EQ(q.counts().admitted_from_queue, 3u);
  EXPECT_EQ(q.counts().waiting, 0u);
}

TEST(AdmissionQueue, NewcomerDoesNotOvertakeTheQueue) {
  AdmissionQueue q({.max_sessions = 1, .max_queued = 2});
  const auto first = q.arrive();
  const auto waiting = q.arrive();
  ASSERT_EQ(waiting.outcome, Outcome::queued);
  q.release(first.ticket, 1s);  // the slot goes to the waiting ticket, not to the next arrival
  const auto late = q.arrive();
  EXPECT_EQ(late.outcome, Outcome::queued);
  EXPECT_EQ(late.position, 1u);
  EXPECT_EQ(q.wait(waiting.ticket, 1, now()).wake, Wake::admitted);
}

TEST(AdmissionQueue, WaiterWakesWhenAdmittedFromAnotherThread) {
  AdmissionQueue q({.max_sessions = 1, .max_queued = 1});
  const auto holder = q.arrive();
  const auto waiter = q.arrive();
  std::thread ender([&] { q.release(holder.ticket, 10ms); });
  // Bounded so a lost wake-up fails the test instead of hanging it.
  AdmissionQueue::WaitResult r;
  do {
    r = q.wait(waiter.ticket, 1, now() + 20s);
  } while (r.wake == Wake::timed_out);
  ender.join();
  EXPECT_EQ(r.wake, Wake::admitted);
  EXPECT_EQ(r.position, 0u);
}

TEST(AdmissionQueue, UnchangedPlaceTimesOut) {
  AdmissionQueue q({.max_sessions = 1, .max_queued = 1});
  (void)q.arrive();
  const auto waiter = q.arrive();
  const auto r = q.wait(waiter.ticket, 1, now());
  EXPECT_EQ(r.wake, Wake::timed_out);
  EXPECT_EQ(r.position, 1u);
  EXPECT_EQ(q.wait(waiter.ticket, 0, now()).wake, Wake::moved);  // a place it was not told yet
}

TEST(AdmissionQueue, FullQueueIsRefusedWithARetryAfterHint) {
  AdmissionQueue q({.max_sessions = 2, .max_queued = 4, .initial_session_estimate = 1000ms});
  std::vector<AdmissionQueue::Arrival> in;
  for (int i = 0; i < 6; ++i) in.push_back(q.arrive());
  const auto refused = q.arrive();
  EXPECT_EQ(refused.outcome, Outcome::full);
  EXPECT_EQ(refused.ticket, 0u);
  // Half the queue and one more, at 2 sessions of 1 s in parallel: (4 / 2 + 1) * 1000 / 2 ms.
  EXPECT_EQ(refused.retry_after_ms, 1500u);
  EXPECT_EQ(q.counts().refused_full, 1u);
  // The hint follows the observed session times: the first replaces the assumed estimate.
  q.release(in[0].ticket, 200ms);
  q.release(in[1].ticket, 200ms);  // 1/8 of the way from 200 ms to 200 ms
  EXPECT_EQ(q.mean_session(), std::chrono::nanoseconds(200ms));
  (void)q.arrive();
  (void)q.arrive();                            // the queue is full again
  EXPECT_EQ(q.arrive().retry_after_ms, 300u);  // (4 / 2 + 1) * 200 / 2
  EXPECT_EQ(q.estimated_wait_ms(3), 300u);     // 3 * 200 / 2
}

TEST(AdmissionQueue, RetryAfterHintIsBounded) {
  AdmissionQueue fast({.max_sessions = 64, .max_queued = 0, .initial_session_estimate = 1ms});
  for (int i = 0; i < 64; ++i) (void)fast.arrive();
  EXPECT_EQ(fast.arrive().retry_after_ms, kMinRetryAfterMs);
  AdmissionQueue slow({.max_sessions = 1, .max_queued = 0, .initial_session_estimate = 3600s});
  (void)slow.arrive();
  EXPECT_EQ(slow.arrive().retry_after_ms, kMaxRetryAfterMsHint);
}

TEST(AdmissionQueue, NoQueueRefusesAtOnceWhenEverySlotIsTaken) {
  AdmissionQueue q({.max_sessions = 1, .max_queued = 0});
  EXPECT_EQ(q.arrive().outcome, Outcome::admitted);
  EXPECT_EQ(q.arrive().outcome, Outcome::full);
}

TEST(AdmissionQueue, DepartureFreesItsPlaceAndMovesTheOthersUp) {
  AdmissionQueue q({.max_sessions = 1, .max_queued = 2});
  const auto holder = q.arrive();
  const auto gone = q.arrive(), stays = q.arrive();
  EXPECT_EQ(q.arrive().outcome, Outcome::full);
  q.release(gone.ticket);  // its client disconnected while waiting
  EXPECT_EQ(q.counts().left_queue, 1u);
  EXPECT_EQ(q.counts().waiting, 1u);
  EXPECT_EQ(q.wait(stays.ticket, 2, now()).wake, Wake::moved);
  EXPECT_EQ(q.position(stays.ticket), 1u);
  EXPECT_EQ(q.arrive().outcome, Outcome::queued);  // the freed place is taken again
  // A session that never ran frees its slot without touching the mean.
  q.release(holder.ticket);
  EXPECT_EQ(q.mean_session(), std::chrono::nanoseconds(1000ms));
  EXPECT_EQ(q.wait(stays.ticket, 1, now()).wake, Wake::admitted);
  q.release(gone.ticket);  // ended twice: ignored
  EXPECT_EQ(q.counts().left_queue, 1u);
  EXPECT_EQ(q.counts().active, 1u);
}

TEST(AdmissionQueue, CloseWakesWaitersAndRefusesNewcomers) {
  AdmissionQueue q({.max_sessions = 1, .max_queued = 2});
  const auto holder = q.arrive();
  const auto waiter = q.arrive();
  std::thread closer([&] { q.close(); });
  AdmissionQueue::WaitResult r;
  do {
    r = q.wait(waiter.ticket, 1, now() + 20s);
  } while (r.wake == Wake::timed_out);
  closer.join();
  EXPECT_EQ(r.wake, Wake::closed);
  EXPECT_EQ(q.arrive().outcome, Outcome::full);
  q.release(holder.ticket, 1s);  // no admission after close
  EXPECT_EQ(q.wait(waiter.ticket, 1, now()).wake, Wake::closed);
}

TEST(AdmissionQueue, ZeroSessionsIsInvalid) {
  EXPECT_THROW(AdmissionQueue({.max_sessions = 0}), InvalidArgument);
}

}  // namespace
