#pragma once
// Typed errors shared by every layer (docs/ARCHITECTURE.md, "Cross-cutting rules").
//
// Library code throws; only boundaries (cli, the service layer's server loop) catch. Messages name
// the field, the value and the limit, never a secret value, and never a CLI flag (the CLI adds its
// own hints from the reason).
//
// Every error carries an ErrorReason: the class says what kind of failure it is, the reason says
// which one when a caller must act on it (retry a busy server, suggest TLS settings, count a
// refused precompute). The reason also crosses the wire in the error frame (Channel::send_error),
// so callers never classify errors by searching their text.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pinfer {

// Stable numbers: they are sent in error frames. Add new ones at the end.
enum class ErrorReason : uint8_t {
  unspecified = 0,       // no finer reason (also: an unknown number from a newer peer)
  invalid_argument = 1,  // the defaults of the error classes below
  format = 2,
  protocol = 3,
  io = 4,
  store = 5,  // the store refused or could not hold a precompute (full, quota, missing, used)
  unsupported = 6,
  server_busy = 7,            // the server runs its maximum of sessions; try again later
  tls_required = 8,           // a plaintext client reached a server that requires TLS
  tls_handshake = 9,          // the TLS handshake failed (is the peer speaking TLS?)
  tls_certificate = 10,       // the peer's certificate did not verify or match the pin
  timed_out = 11,             // a connect, handshake or read deadline passed
  peer_closed = 12,           // the peer closed or reset the connection
  unauthenticated = 13,       // unknown client id or wrong token
  plaintext_refused = 14,     // plaintext was asked for a non-loopback address
  version_mismatch = 15,      // the peer speaks another session version
  registration_refused = 16,  // registration closed, or the registration secret is wrong
  queue_timeout = 17,         // waited in the server's admission queue longer than it allows
};

[[nodiscard]] std::string_view to_string(ErrorReason reason) noexcept;
// The reason for a number read from the wire; numbers this build does not know map to
// unspecified (a newer peer's finer reason is still an error).
[[nodiscard]] ErrorReason error_reason_from_wire(uint8_t value) noexcept;

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, ErrorReason reason = ErrorReason::unspecified)
      : std::runtime_error(what), reason_(reason) {}
  explicit Error(const char* what, ErrorReason reason = ErrorReason::unspecified)
      : std::runtime_error(what), reason_(reason) {}
  [[nodiscard]] ErrorReason reason() const noexcept { return reason_; }

 private:
  ErrorReason reason_;
};

#define PINFER_ERROR_CLASS(Name, default_reason)                                                  \
  class Name : public Error {                                                                     \
   public:                                                                                        \
    explicit Name(const std::string& what, ErrorReason reason = default_reason)                   \
        : Error(what, reason) {}                                                                  \
    explicit Name(const char* what, ErrorReason reason = default_reason) : Error(what, reason) {} \
  }

// A bad value or configuration from the caller.
PINFER_ERROR_CLASS(InvalidArgument, ErrorReason::invalid_argument);
// Malformed bytes from a file, the network or a model.
PINFER_ERROR_CLASS(FormatError, ErrorReason::format);
// The peer's message is wrong for this step of the protocol, or the peer reported a failure.
PINFER_ERROR_CLASS(ProtocolError, ErrorReason::protocol);
// Socket, file or timeout failure.
PINFER_ERROR_CLASS(IoError, ErrorReason::io);
// Precompute missing, already used, or store full (also when the peer's store refused).
PINFER_ERROR_CLASS(StoreError, ErrorReason::store);
// A feature we do not implement (e.g. an ONNX operator).
PINFER_ERROR_CLASS(Unsupported, ErrorReason::unsupported);

#undef PINFER_ERROR_CLASS

// The server runs its maximum of sessions and its admission queue is full (ErrorReason::
// server_busy). It carries the server's hint of when a new attempt is likely to find room, so a
// client retries after that instead of at once (protocol::retry_while_busy honours it). A
// ProtocolError like every failure a peer reports, so callers that only tell "the server
// refused" apart keep working.
class ServerBusyError : public ProtocolError {
 public:
  ServerBusyError(const std::string& what, uint64_t retry_after_ms)
      : ProtocolError(what, ErrorReason::server_busy), retry_after_ms_(retry_after_ms) {}
  [[nodiscard]] uint64_t retry_after_ms() const noexcept { return retry_after_ms_; }

 private:
  uint64_t retry_after_ms_;
};

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line) noexcept;

}  // namespace pinfer

// Broken invariants are bugs, not errors: abort with file:line (active in every build type).
#define PINFER_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::pinfer::assertion_failed(#cond, __FILE__, __LINE__))
