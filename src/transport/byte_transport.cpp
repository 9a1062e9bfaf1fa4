// The helpers both byte transports send with (byte_transport.hpp).
#include "transport/byte_transport.hpp"

#include <poll.h>

#include <string>
#include <thread>

#include "pinfer/core/error.hpp"
#include "transport/socket_util.hpp"

namespace pinfer::transport::detail {

void pace(TokenBucket* bucket, std::size_t bytes) {
  if (bucket == nullptr) return;
  const auto wait = bucket->reserve(bytes, TokenBucket::Clock::now());
  if (wait > TokenBucket::Clock::duration::zero()) std::this_thread::sleep_for(wait);
}

void wait_writable(int fd, const SendLimits& limits, std::string_view name) {
  if (!wait_for(fd, POLLOUT, limits.poll_ms)) {
    throw IoError(std::string(name) + ": send timed out after " +
                  std::to_string(limits.timeout_ms) + " ms");
  }
}

}  // namespace pinfer::transport::detail
