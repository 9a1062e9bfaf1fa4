#include "service/admission_queue.hpp"

#include <algorithm>
#include <cmath>

#include "pinfer/core/error.hpp"

namespace pinfer::service {

AdmissionQueue::AdmissionQueue(AdmissionLimits limits)
    : limits_(limits),
      mean_session_ns_(
          static_cast<double>(std::chrono::nanoseconds(limits.initial_session_estimate).count())) {
  if (limits_.max_sessions == 0) throw InvalidArgument("max_sessions must be positive");
}

AdmissionQueue::Arrival AdmissionQueue::arrive() {
  std::lock_guard lock(mu_);
  if (!closed_ && queue_.empty() && holding_.size() < limits_.max_sessions) {
    const Ticket t = next_ticket_++;
    holding_.insert(t);
    ++counts_.admitted_at_once;
    return {Outcome::admitted, t, 0, 0};
  }
  if (!closed_ && queue_.size() < limits_.max_queued) {
    const Ticket t = next_ticket_++;
    queue_.push_back(t);
    return {Outcome::queued, t, queue_.size(), 0};
  }
  ++counts_.refused_full;
  return {Outcome::full, 0, 0, retry_after_locked()};
}

std::size_t AdmissionQueue::position_locked(Ticket ticket) const {
  const auto at = std::find(queue_.begin(), queue_.end(), ticket);
  return at == queue_.end() ? 0 : static_cast<std::size_t>(at - queue_.begin()) + 1;
}

AdmissionQueue::WaitResult AdmissionQueue::wait(Ticket ticket, std::size_t known_position,
                                                Clock::time_point until) {
  std::unique_lock lock(mu_);
  WaitResult result;
  const auto ready = [&] {
    if (holding_.count(ticket) != 0) {
      result = {Wake::admitted, 0};
      return true;
    }
    if (closed_) {
      result = {Wake::closed, 0};
      return true;
    }
    const std::size_t now = position_locked(ticket);
    if (now == 0) {  // released meanwhile: nothing to wait for
      result = {Wake::closed, 0};
      return true;
    }
    if (now != known_position) {
      result = {Wake::moved, now};
      return true;
    }
    return false;
  };
  if (!changed_.wait_until(lock, until, ready)) result = {Wake::timed_out, known_position};
  return result;
}

std::size_t AdmissionQueue::position(Ticket ticket) const {
  std::lock_guard lock(mu_);
  return position_locked(ticket);
}

void AdmissionQueue::release(Ticket ticket, std::optional<std::chrono::nanoseconds> session_time) {
  std::lock_guard lock(mu_);
  if (holding_.erase(ticket) != 0) {
    if (session_time) {
      const double sample = static_cast<double>(session_time->count());
      // The first observation replaces the assumed estimate; later ones move the mean by 1/8,
      // so it follows a change of load within a few dozen sessions without jumping on one.
      mean_session_ns_ =
          mean_observed_ ? mean_session_ns_ + (sample - mean_session_ns_) / 8 : sample;
      mean_observed_ = true;
    }
  } else if (const auto at = std::find(queue_.begin(), queue_.end(), ticket); at != queue_.end()) {
    queue_.erase(at);
    ++counts_.left_queue;
  } else {
    return;
  }
  admit_locked();
  changed_.notify_all();  // the places behind a departed ticket moved up
}

void AdmissionQueue::admit_locked() {
  while (!closed_ && holding_.size() < limits_.max_sessions && !queue_.empty()) {
    holding_.insert(queue_.front());
    queue_.pop_front();
    ++counts_.admitted_from_queue;
  }
}

void AdmissionQueue::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  changed_.notify_all();
}

std::chrono::nanoseconds AdmissionQueue::mean_session() const {
  std::lock_guard lock(mu_);
  return std::chrono::nanoseconds(static_cast<int64_t>(mean_session_ns_));
}

uint64_t AdmissionQueue::retry_after_locked() const {
  // A place in a full queue frees each time a session ends: every mean / max_sessions on
  // average. Waiting for half the queue (and one more) to move on leaves room for the retry
  // with margin for other refused clients, while the queue still holds enough to keep every
  // slot busy until the retry arrives.
  const double places = static_cast<double>(queue_.size()) / 2 + 1;
  const double ms = mean_session_ns_ / 1e6 * places / static_cast<double>(limits_.max_sessions);
  return std::clamp(static_cast<uint64_t>(std::ceil(ms)), kMinRetryAfterMs, kMaxRetryAfterMsHint);
}

uint64_t AdmissionQueue::retry_after_ms() const {
  std::lock_guard lock(mu_);
  return retry_after_locked();
}

uint64_t AdmissionQueue::estimated_wait_locked(std::size_t position) const {
  const double ms = mean_session_ns_ / 1e6 * static_cast<double>(position) /
                    static_cast<double>(limits_.max_sessions);
  return static_cast<uint64_t>(std::min(ms, 4e9));
}

uint64_t AdmissionQueue::estimated_wait_ms(std::size_t position) const {
  std::lock_guard lock(mu_);
  return estimated_wait_locked(position);
}

AdmissionCounts AdmissionQueue::counts() const {
  std::lock_guard lock(mu_);
  AdmissionCounts c = counts_;
  c.active = holding_.size();
  c.waiting = queue_.size();
  return c;
}

}  // namespace pinfer::service
