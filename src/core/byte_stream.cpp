#include "pinfer/core/byte_stream.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/core/private_files.hpp"

namespace pinfer {
namespace {

[[noreturn]] void truncated(std::size_t wanted, uint64_t available) {
  throw FormatError("byte stream truncated: " + std::to_string(wanted) + " bytes wanted, " +
                    std::to_string(available) + " left");
}

}  // namespace

void MemoryByteSink::write(std::span<const std::byte> bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

void MemoryByteSource::read(std::span<std::byte> out) {
  if (out.size() > bytes_.size() - pos_) truncated(out.size(), bytes_.size() - pos_);
  if (!out.empty()) std::memcpy(out.data(), bytes_.data() + pos_, out.size());
  pos_ += out.size();
}

void MemoryByteSource::finish() {
  if (pos_ != bytes_.size()) {
    throw FormatError("byte stream has " + std::to_string(bytes_.size() - pos_) +
                      " trailing bytes");
  }
}

FileByteSink::FileByteSink(const std::filesystem::path& path) : path_(path) {
  // What streams into a file is precompute state (garbled tables with their decode bits reveal
  // the offset's use): mode 0600.
  const int fd = open_private_file_for_writing(path);
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    const int err = errno;
    ::close(fd);
    throw IoError("cannot create " + path.string() + ": " + std::strerror(err));
  }
}

FileByteSink::~FileByteSink() {
  if (file_ != nullptr) std::fclose(file_);
}

void FileByteSink::write(std::span<const std::byte> bytes) {
  if (file_ == nullptr) throw IoError(path_.string() + " already finished");
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    throw IoError("cannot write " + path_.string() + ": " + std::strerror(errno));
  }
}

void FileByteSink::finish() {
  if (file_ == nullptr) return;
  const bool ok = std::fflush(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) {
    throw IoError("cannot flush " + path_.string() + ": " + std::strerror(errno));
  }
}

FileByteSource::FileByteSource(const std::filesystem::path& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    throw IoError("cannot open " + path.string() + ": " + std::strerror(errno));
  }
}

FileByteSource::~FileByteSource() {
  if (file_ != nullptr) std::fclose(file_);
}

void FileByteSource::read(std::span<std::byte> out) {
  const std::size_t got = out.empty() ? 0 : std::fread(out.data(), 1, out.size(), file_);
  if (got != out.size()) {
    if (std::ferror(file_)) {
      throw IoError("cannot read " + path_.string() + ": " + std::strerror(errno));
    }
    truncated(out.size(), got);
  }
}

void FileByteSource::finish() {
  if (std::fgetc(file_) != EOF) {
    throw FormatError(path_.string() + " has trailing bytes");
  }
}

ChannelByteSink::ChannelByteSink(Channel& channel, uint32_t frame_type, uint64_t total_bytes,
                                 std::size_t chunk_bytes)
    : writer_(channel, frame_type, total_bytes, chunk_bytes) {}

void ChannelByteSink::write(std::span<const std::byte> bytes) {
  writer_.write(bytes);
}

void ChannelByteSink::finish() {
  writer_.finish();
}

ChannelByteSource::ChannelByteSource(Channel& channel, uint32_t frame_type,
                                     uint64_t max_total_bytes, std::size_t chunk_bytes)
    : reader_(channel, frame_type, max_total_bytes, chunk_bytes) {}

void ChannelByteSource::read(std::span<std::byte> out) {
  if (out.size() > reader_.remaining()) truncated(out.size(), reader_.remaining());
  reader_.read(out);
}

void ChannelByteSource::finish() {
  reader_.finish();
}

}  // namespace pinfer
