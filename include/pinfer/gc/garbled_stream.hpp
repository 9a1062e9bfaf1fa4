#pragma once
// Byte sinks and sources for garbled tables, so multi-GB garbled layers stream to a file or a
// peer and back without sitting in memory.
//
// These move raw bytes only; garble_batch / evaluate_batch (half_gates.hpp) write and check the
// framing (header, per-batch lengths and checksums) on top. A source whose bytes end early
// throws FormatError ("garbled stream truncated"), so a short stream is never read as tables.
// Thread safety: none; one sink or source per thread.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <vector>

#include "pinfer/core/channel.hpp"
#include "pinfer/core/channel_stream.hpp"

namespace pinfer::gc {

class GarbledSink {
 public:
  virtual ~GarbledSink() = default;
  virtual void write(std::span<const std::byte> bytes) = 0;
  // Makes everything written durable / sent. Call once at the end.
  virtual void finish() {}
};

class GarbledSource {
 public:
  virtual ~GarbledSource() = default;
  // Fills `out` exactly; throws FormatError if the stream ends first.
  virtual void read(std::span<std::byte> out) = 0;
  // Throws FormatError if unread bytes remain.
  virtual void finish() {}
};

// In memory (tests, small layers).
class MemoryGarbledSink final : public GarbledSink {
 public:
  void write(std::span<const std::byte> bytes) override;
  [[nodiscard]] const std::vector<std::byte>& bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::vector<std::byte>& mutable_bytes() noexcept { return bytes_; }
  [[nodiscard]] std::vector<std::byte> take() noexcept { return std::move(bytes_); }

 private:
  std::vector<std::byte> bytes_;
};

// Reads from a view; the caller keeps the bytes alive.
class MemoryGarbledSource final : public GarbledSource {
 public:
  explicit MemoryGarbledSource(std::span<const std::byte> bytes) : bytes_(bytes) {}
  void read(std::span<std::byte> out) override;
  void finish() override;

 private:
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

// A file, created or truncated. Throws IoError if it cannot be opened or written.
class FileGarbledSink final : public GarbledSink {
 public:
  explicit FileGarbledSink(const std::filesystem::path& path);
  ~FileGarbledSink() override;
  FileGarbledSink(const FileGarbledSink&) = delete;
  FileGarbledSink& operator=(const FileGarbledSink&) = delete;
  void write(std::span<const std::byte> bytes) override;
  // Flushes and closes; throws IoError on failure.
  void finish() override;

 private:
  std::FILE* file_ = nullptr;
  std::filesystem::path path_;
};

// A file written by FileGarbledSink. Throws IoError if it cannot be opened or read.
class FileGarbledSource final : public GarbledSource {
 public:
  explicit FileGarbledSource(const std::filesystem::path& path);
  ~FileGarbledSource() override;
  FileGarbledSource(const FileGarbledSource&) = delete;
  FileGarbledSource& operator=(const FileGarbledSource&) = delete;
  void read(std::span<std::byte> out) override;
  void finish() override;

 private:
  std::FILE* file_ = nullptr;
  std::filesystem::path path_;
};

// Over a Channel with ChannelStreamWriter; total_bytes must be announced up front (use
// garbled_stream_bytes() from half_gates.hpp, summed over the garble_batch calls).
class ChannelGarbledSink final : public GarbledSink {
 public:
  ChannelGarbledSink(Channel& channel, uint32_t frame_type, uint64_t total_bytes,
                     std::size_t chunk_bytes = kDefaultStreamChunkBytes);
  void write(std::span<const std::byte> bytes) override;
  // Throws InvalidArgument unless exactly total_bytes were written.
  void finish() override;

 private:
  ChannelStreamWriter writer_;
};

// Over a Channel with ChannelStreamReader; the announced total is checked against
// max_total_bytes before anything is read (FormatError).
class ChannelGarbledSource final : public GarbledSource {
 public:
  ChannelGarbledSource(Channel& channel, uint32_t frame_type, uint64_t max_total_bytes,
                       std::size_t chunk_bytes = kDefaultStreamChunkBytes);
  [[nodiscard]] uint64_t total_bytes() const noexcept { return reader_.total(); }
  void read(std::span<std::byte> out) override;
  void finish() override;

 private:
  ChannelStreamReader reader_;
};

}  // namespace pinfer::gc
