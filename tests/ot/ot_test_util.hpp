#pragma once
// Runs the two roles of an OT test on two threads over the in-memory channel pair; an
// exception in either role is rethrown in the test thread (after both finished).
#include <exception>
#include <functional>
#include <thread>

#include "pinfer/core/channel.hpp"

namespace pinfer::ot::testing {

struct TwoPartyResult {
  std::exception_ptr first;
  std::exception_ptr second;
};

inline TwoPartyResult run_two_party(Channel& a, Channel& b, const std::function<void(Channel&)>& fa,
                                    const std::function<void(Channel&)>& fb) {
  TwoPartyResult res;
  std::thread t([&] {
    try {
      fb(b);
    } catch (...) {
      res.second = std::current_exception();
      b.send_error("peer failed");
    }
  });
  try {
    fa(a);
  } catch (...) {
    res.first = std::current_exception();
    a.send_error("peer failed");
  }
  t.join();
  return res;
}

// Both roles must succeed.
inline void run_both(Channel& a, Channel& b, const std::function<void(Channel&)>& fa,
                     const std::function<void(Channel&)>& fb) {
  const TwoPartyResult r = run_two_party(a, b, fa, fb);
  if (r.first) std::rethrow_exception(r.first);
  if (r.second) std::rethrow_exception(r.second);
}

}  // namespace pinfer::ot::testing
