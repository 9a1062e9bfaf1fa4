#pragma once
// message_of<E>(fn): runs fn, expects it to throw E, and returns the message for checks on
// what the error names (field, value, limit). Records a test failure if nothing is thrown.
#include <gtest/gtest.h>

#include <string>

namespace pinfer::test_support {

template <typename E>
std::string message_of(auto&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected exception not thrown";
  return {};
}

}  // namespace pinfer::test_support
