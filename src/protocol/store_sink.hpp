#pragma once
// A garbled-stream sink into a store file that keeps the session in step when the disk fails.
//
// A write error (disk full, file size limit) in the middle of an offline phase must not break
// the protocol: the peer is still streaming, and if the server simply closed the connection the
// client would only see "connection closed". So the first error is remembered, later data is
// dropped, the phase runs to its end, and finish() rethrows the error; the caller then tells
// the peer why the precompute cannot be stored and discards the entry.
#include <exception>
#include <filesystem>
#include <optional>
#include <span>

#include "pinfer/core/byte_stream.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::protocol::detail {

class StoreSink final : public ByteSink {
 public:
  explicit StoreSink(const std::filesystem::path& path) {
    try {
      file_.emplace(path);
    } catch (const Error&) {
      error_ = std::current_exception();
    }
  }
  void write(std::span<const std::byte> bytes) override {
    if (error_) return;
    try {
      file_->write(bytes);
    } catch (const Error&) {
      error_ = std::current_exception();
    }
  }
  // Throws the first write error, or whatever closing the file throws.
  void finish() override {
    if (error_) std::rethrow_exception(error_);
    file_->finish();
  }

 private:
  std::optional<FileByteSink> file_;
  std::exception_ptr error_;
};

}  // namespace pinfer::protocol::detail
