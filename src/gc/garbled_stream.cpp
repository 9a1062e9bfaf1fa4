#include "pinfer/gc/garbled_stream.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/core/private_files.hpp"

namespace pinfer::gc {
namespace {

[[noreturn]] void truncated(std::size_t wanted, uint64_t available) {
  throw FormatError("garbled stream truncated: " + std::to_string(wanted) + " bytes wanted, " +
                    std::to_string(available) + " left");
}

}  // namespace

void MemoryGarbledSink::write(std::span<const std::byte> bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

void MemoryGarbledSource::read(std::span<std::byte> out) {
  if (out.size() > bytes_.size() - pos_) truncated(out.size(), bytes_.size() - pos_);
  if (!out.empty()) std::memcpy(out.data(), bytes_.data() + pos_, out.size());
  pos_ += out.size();
}

void MemoryGarbledSource::finish() {
  if (pos_ != bytes_.size()) {
    throw FormatError("garbled stream has " + std::to_string(bytes_.size() - pos_) +
                      " trailing bytes");
  }
}

FileGarbledSink::FileGarbledSink(const std::filesystem::path& path) : path_(path) {
  // Garbled tables of a precompute are secret (with the decode bits they reveal the offset's
  // use): mode 0600.
  const int fd = open_private_file_for_writing(path);
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    const int err = errno;
    ::close(fd);
    throw IoError("cannot create garbled file " + path.string() + ": " + std::strerror(err));
  }
}

FileGarbledSink::~FileGarbledSink() {
  if (file_ != nullptr) std::fclose(file_);
}

void FileGarbledSink::write(std::span<const std::byte> bytes) {
  if (file_ == nullptr) throw IoError("garbled file " + path_.string() + " already finished");
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    throw IoError("cannot write garbled file " + path_.string() + ": " + std::strerror(errno));
  }
}

void FileGarbledSink::finish() {
  if (file_ == nullptr) return;
  const bool ok = std::fflush(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) {
    throw IoError("cannot flush garbled file " + path_.string() + ": " + std::strerror(errno));
  }
}

FileGarbledSource::FileGarbledSource(const std::filesystem::path& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    throw IoError("cannot open garbled file " + path.string() + ": " + std::strerror(errno));
  }
}

FileGarbledSource::~FileGarbledSource() {
  if (file_ != nullptr) std::fclose(file_);
}

void FileGarbledSource::read(std::span<std::byte> out) {
  const std::size_t got = out.empty() ? 0 : std::fread(out.data(), 1, out.size(), file_);
  if (got != out.size()) {
    if (std::ferror(file_)) {
      throw IoError("cannot read garbled file " + path_.string() + ": " + std::strerror(errno));
    }
    truncated(out.size(), got);
  }
}

void FileGarbledSource::finish() {
  if (std::fgetc(file_) != EOF) {
    throw FormatError("garbled file " + path_.string() + " has trailing bytes");
  }
}

ChannelGarbledSink::ChannelGarbledSink(Channel& channel, uint32_t frame_type, uint64_t total_bytes,
                                       std::size_t chunk_bytes)
    : writer_(channel, frame_type, total_bytes, chunk_bytes) {}

void ChannelGarbledSink::write(std::span<const std::byte> bytes) {
  writer_.write(bytes);
}

void ChannelGarbledSink::finish() {
  writer_.finish();
}

ChannelGarbledSource::ChannelGarbledSource(Channel& channel, uint32_t frame_type,
                                           uint64_t max_total_bytes, std::size_t chunk_bytes)
    : reader_(channel, frame_type, max_total_bytes, chunk_bytes) {}

void ChannelGarbledSource::read(std::span<std::byte> out) {
  if (out.size() > reader_.remaining()) truncated(out.size(), reader_.remaining());
  reader_.read(out);
}

void ChannelGarbledSource::finish() {
  reader_.finish();
}

}  // namespace pinfer::gc
