#include "pinfer/core/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace pinfer {

std::string_view to_string(ErrorReason reason) noexcept {
  switch (reason) {
    case ErrorReason::unspecified:
      return "unspecified";
    case ErrorReason::invalid_argument:
      return "invalid argument";
    case ErrorReason::format:
      return "format";
    case ErrorReason::protocol:
      return "protocol";
    case ErrorReason::io:
      return "io";
    case ErrorReason::store:
      return "store";
    case ErrorReason::unsupported:
      return "unsupported";
    case ErrorReason::server_busy:
      return "server busy";
    case ErrorReason::tls_required:
      return "tls required";
    case ErrorReason::tls_handshake:
      return "tls handshake";
    case ErrorReason::tls_certificate:
      return "tls certificate";
    case ErrorReason::timed_out:
      return "timed out";
    case ErrorReason::peer_closed:
      return "peer closed";
    case ErrorReason::unauthenticated:
      return "unauthenticated";
    case ErrorReason::plaintext_refused:
      return "plaintext refused";
    case ErrorReason::version_mismatch:
      return "version mismatch";
    case ErrorReason::registration_refused:
      return "registration refused";
    case ErrorReason::queue_timeout:
      return "queue timeout";
  }
  return "unspecified";
}

ErrorReason error_reason_from_wire(uint8_t value) noexcept {
  return value <= static_cast<uint8_t>(ErrorReason::queue_timeout) ? static_cast<ErrorReason>(value)
                                                                   : ErrorReason::unspecified;
}

void assertion_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "pinfer: internal invariant broken: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace pinfer
