#pragma once
// Byte sinks and sources: where a producer writes bytes without knowing whether they go to
// memory, a file or the peer, and a consumer reads them back the same way. Garbled tables,
// wire labels, OT choice bits and decode bits of a precompute stream through these, so
// multi-GB layers move to a file or a peer and back without sitting in memory.
//
// These move raw bytes only; the producers write and check their own framing on top
// (gc::garble_batch / evaluate_batch: header, per-batch lengths and checksums). A source whose
// bytes end early throws FormatError ("byte stream truncated"), so a short stream is never read
// as data.
// Thread safety: none; one sink or source per thread.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <vector>

#include "pinfer/core/channel.hpp"
#include "pinfer/core/channel_stream.hpp"

namespace pinfer {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(std::span<const std::byte> bytes) = 0;
  // Makes everything written durable / sent. Call once at the end.
  virtual void finish() {}
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills `out` exactly; throws FormatError if the stream ends first.
  virtual void read(std::span<std::byte> out) = 0;
  // Throws FormatError if unread bytes remain.
  virtual void finish() {}
};

// In memory (tests, small layers).
class MemoryByteSink final : public ByteSink {
 public:
  void write(std::span<const std::byte> bytes) override;
  [[nodiscard]] const std::vector<std::byte>& bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::vector<std::byte>& mutable_bytes() noexcept { return bytes_; }
  [[nodiscard]] std::vector<std::byte> take() noexcept { return std::move(bytes_); }

 private:
  std::vector<std::byte> bytes_;
};

// Reads from a view; the caller keeps the bytes alive.
class MemoryByteSource final : public ByteSource {
 public:
  explicit MemoryByteSource(std::span<const std::byte> bytes) : bytes_(bytes) {}
  void read(std::span<std::byte> out) override;
  void finish() override;

 private:
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

// A file, created or truncated with mode 0600 (what streams into a file is precompute state:
// garbled tables, labels, choice and decode bits). Throws IoError if it cannot be opened or
// written.
class FileByteSink final : public ByteSink {
 public:
  explicit FileByteSink(const std::filesystem::path& path);
  ~FileByteSink() override;
  FileByteSink(const FileByteSink&) = delete;
  FileByteSink& operator=(const FileByteSink&) = delete;
  void write(std::span<const std::byte> bytes) override;
  // Flushes and closes; throws IoError on failure.
  void finish() override;

 private:
  std::FILE* file_ = nullptr;
  std::filesystem::path path_;
};

// A file written by FileByteSink. Throws IoError if it cannot be opened or read.
class FileByteSource final : public ByteSource {
 public:
  explicit FileByteSource(const std::filesystem::path& path);
  ~FileByteSource() override;
  FileByteSource(const FileByteSource&) = delete;
  FileByteSource& operator=(const FileByteSource&) = delete;
  void read(std::span<std::byte> out) override;
  void finish() override;

 private:
  std::FILE* file_ = nullptr;
  std::filesystem::path path_;
};

// Over a Channel with ChannelStreamWriter; total_bytes must be announced up front (for garbled
// tables gc::garbled_stream_bytes(), summed over the garble_batch calls).
class ChannelByteSink final : public ByteSink {
 public:
  ChannelByteSink(Channel& channel, uint32_t frame_type, uint64_t total_bytes,
                  std::size_t chunk_bytes = kDefaultStreamChunkBytes);
  void write(std::span<const std::byte> bytes) override;
  // Throws InvalidArgument unless exactly total_bytes were written.
  void finish() override;

 private:
  ChannelStreamWriter writer_;
};

// Over a Channel with ChannelStreamReader; the announced total is checked against
// max_total_bytes before anything is read (FormatError).
class ChannelByteSource final : public ByteSource {
 public:
  ChannelByteSource(Channel& channel, uint32_t frame_type, uint64_t max_total_bytes,
                    std::size_t chunk_bytes = kDefaultStreamChunkBytes);
  [[nodiscard]] uint64_t total_bytes() const noexcept { return reader_.total(); }
  void read(std::span<std::byte> out) override;
  void finish() override;

 private:
  ChannelStreamReader reader_;
};

}  // namespace pinfer
