#include "pinfer/core/byte_stream.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer {
namespace {

std::vector<std::byte> pattern(std::size_t n) {
  std::vector<std::byte> v(n);
  Prg::from_seed(Block(n, 7)).fill_bytes(v);
  return v;
}

// Offsets of uneven pieces covering [0, n): piece sizes first, first * grow + 1, ...
std::vector<std::size_t> cuts(std::size_t n, std::size_t first, std::size_t grow) {
  std::vector<std::size_t> at = {0};
  for (std::size_t piece = first; at.back() < n; piece = piece * grow + 1) {
    at.push_back(std::min(n, at.back() + piece));
  }
  return at;
}

// Writes `data` in uneven pieces, then finishes the sink.
void write_pieces(ByteSink& sink, const std::vector<std::byte>& data) {
  const std::vector<std::size_t> at = cuts(data.size(), 1, 3);
  for (std::size_t k = 0; k + 1 < at.size(); ++k) {
    sink.write(std::span(data).subspan(at[k], at[k + 1] - at[k]));
  }
  sink.finish();
}

// Reads n bytes back in other uneven pieces, then finishes the source.
std::vector<std::byte> read_pieces(ByteSource& source, std::size_t n) {
  std::vector<std::byte> got(n);
  const std::vector<std::size_t> at = cuts(n, 5, 2);
  for (std::size_t k = 0; k + 1 < at.size(); ++k) {
    source.read(std::span(got).subspan(at[k], at[k + 1] - at[k]));
  }
  source.finish();
  return got;
}

TEST(ByteStream, MemoryRoundTripTruncationAndTrailingBytes) {
  const std::vector<std::byte> data = pattern(5000);
  MemoryByteSink sink;
  write_pieces(sink, data);
  EXPECT_EQ(sink.bytes(), data);
  MemoryByteSource source(sink.bytes());
  EXPECT_EQ(read_pieces(source, data.size()), data);

  std::vector<std::byte> out(10);
  MemoryByteSource shorter{std::span(data).first(9)};
  EXPECT_THROW(shorter.read(out), FormatError);
  MemoryByteSource longer(data);
  longer.read(out);
  EXPECT_THROW(longer.finish(), FormatError);
}

TEST(ByteStream, FileRoundTripIsPrivateAndChecksItsEnd) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("pinfer-byte-stream-" + std::to_string(::getpid()));
  const std::vector<std::byte> data = pattern(300'001);
  {
    FileByteSink sink(path);
    write_pieces(sink, data);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  {
    FileByteSource source(path);
    EXPECT_EQ(read_pieces(source, data.size()), data);
  }
  {
    FileByteSource source(path);
    std::vector<std::byte> most(data.size() - 1);
    source.read(most);
    EXPECT_THROW(source.finish(), FormatError);
    std::vector<std::byte> two(2);
    EXPECT_THROW(source.read(two), FormatError);  // one byte left
  }
  std::filesystem::remove(path);
  EXPECT_THROW(FileByteSource{path}, IoError);
  EXPECT_THROW(FileByteSink{path / "no-such-folder" / "x"}, IoError);
}

TEST(ByteStream, ChannelRoundTripChecksTheAnnouncedTotal) {
  const std::vector<std::byte> data = pattern(70'000);
  auto [a, b] = make_memory_channel_pair();
  std::thread writer([&, &a = a] {
    ChannelByteSink sink(*a, 9, data.size(), 4096);
    write_pieces(sink, data);
  });
  ChannelByteSource source(*b, 9, 1 << 20, 4096);
  EXPECT_EQ(source.total_bytes(), data.size());
  EXPECT_EQ(read_pieces(source, data.size()), data);
  writer.join();

  auto [c, d] = make_memory_channel_pair();
  ChannelByteSink small(*c, 9, 10);
  EXPECT_THROW(ChannelByteSource(*d, 9, 9), FormatError);  // announced 10 > cap 9
}

}  // namespace
}  // namespace pinfer
