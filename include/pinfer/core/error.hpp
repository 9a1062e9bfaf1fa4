#pragma once
// Typed errors shared by every layer (docs/ARCHITECTURE.md, "Cross-cutting rules").
//
// Library code throws; only boundaries (cli, the net server loop) catch. Messages name the
// field, the value and the limit, never a secret value.
#include <stdexcept>
#include <string>

namespace pinfer {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad value or configuration from the caller.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// Malformed bytes from a file, the network or a model.
class FormatError : public Error {
 public:
  using Error::Error;
};

// The peer's message is wrong for this step of the protocol.
class ProtocolError : public Error {
 public:
  using Error::Error;
};

// Socket, file or timeout failure.
class IoError : public Error {
 public:
  using Error::Error;
};

// Precompute missing, already used, or store full.
class StoreError : public Error {
 public:
  using Error::Error;
};

// A feature we do not implement (e.g. an ONNX operator).
class Unsupported : public Error {
 public:
  using Error::Error;
};

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line) noexcept;

}  // namespace pinfer

// Broken invariants are bugs, not errors: abort with file:line (active in every build type).
#define PINFER_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::pinfer::assertion_failed(#cond, __FILE__, __LINE__))
