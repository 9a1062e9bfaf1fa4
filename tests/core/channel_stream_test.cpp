#include "pinfer/core/channel_stream.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/serialization.hpp"

namespace pinfer {
namespace {

std::vector<std::byte> pattern(std::size_t n) {
  std::vector<std::byte> v(n);
  Prg prg = Prg::from_seed(Block(n, 99));
  prg.fill_bytes(v);
  return v;
}

TEST(ChannelStream, RoundTripWithOddChunkAndPieceSizes) {
  for (std::size_t chunk : {1u, 7u, 1000u, 4096u}) {
    auto [a, b] = make_memory_channel_pair();
    const std::vector<std::byte> data = pattern(10'007);
    ChannelStreamWriter w(*a, 3, data.size(), chunk);
    std::size_t pos = 0;
    for (std::size_t piece = 1; pos < data.size(); piece = piece * 3 + 1) {
      const std::size_t n = std::min(piece, data.size() - pos);
      w.write(std::span(data).subspan(pos, n));
      pos += n;
    }
    w.finish();
    EXPECT_EQ(w.written(), data.size());

    ChannelStreamReader r(*b, 3, 1 << 20, chunk);
    EXPECT_EQ(r.total(), data.size());
    std::vector<std::byte> got(data.size());
    pos = 0;
    for (std::size_t piece = 5; pos < got.size(); piece = piece * 2 + 3) {
      const std::size_t n = std::min(piece, got.size() - pos);
      r.read(std::span(got).subspan(pos, n));
      pos += n;
    }
    EXPECT_EQ(r.remaining(), 0u);
    r.finish();
    EXPECT_EQ(got, data) << "chunk=" << chunk;
  }
}

TEST(ChannelStream, EmptyStream) {
  auto [a, b] = make_memory_channel_pair();
  ChannelStreamWriter w(*a, 3, 0);
  w.finish();
  ChannelStreamReader r(*b, 3, 0);
  EXPECT_EQ(r.total(), 0u);
  r.finish();
}

TEST(ChannelStream, ReadingPastTheEndIsFormatError) {
  auto [a, b] = make_memory_channel_pair();
  ChannelStreamWriter w(*a, 3, 10);
  w.write(pattern(10));
  w.finish();
  ChannelStreamReader r(*b, 3, 100);
  std::vector<std::byte> out(11);
  EXPECT_THROW(r.read(out), FormatError);
}

TEST(ChannelStream, FinishingAShortReadIsFormatError) {
  auto [a, b] = make_memory_channel_pair();
  ChannelStreamWriter w(*a, 3, 10);
  w.write(pattern(10));
  w.finish();
  ChannelStreamReader r(*b, 3, 100);
  std::vector<std::byte> out(4);
  r.read(out);
  EXPECT_THROW(r.finish(), FormatError);
}

TEST(ChannelStream, PeerSendingFewerBytesThanAnnouncedIsAnError) {
  // A peer announces 100 bytes, sends 40 and closes: the reader must not accept a short stream.
  auto [a, b] = make_memory_channel_pair();
  ByteWriter head;
  head.u64(100);
  a->send(3, head.data());
  a->send(3, pattern(40));
  a->close();
  ChannelStreamReader r(*b, 3, 1000);
  std::vector<std::byte> out(100);
  EXPECT_THROW(r.read(out), IoError);
}

TEST(ChannelStream, DataFrameLongerThanTheRestIsFormatError) {
  auto [a, b] = make_memory_channel_pair();
  ByteWriter head;
  head.u64(10);
  a->send(3, head.data());
  a->send(3, pattern(20));  // more than announced
  ChannelStreamReader r(*b, 3, 1000);
  std::vector<std::byte> out(10);
  EXPECT_THROW(r.read(out), FormatError);
}

TEST(ChannelStream, EmptyDataFrameIsFormatError) {
  auto [a, b] = make_memory_channel_pair();
  ByteWriter head;
  head.u64(10);
  a->send(3, head.data());
  a->send(3, {});
  ChannelStreamReader r(*b, 3, 1000);
  std::vector<std::byte> out(10);
  EXPECT_THROW(r.read(out), FormatError);
}

TEST(ChannelStream, AnnouncedTotalAboveCapIsFormatError) {
  auto [a, b] = make_memory_channel_pair();
  ChannelStreamWriter w(*a, 3, uint64_t{1} << 40);
  EXPECT_THROW(ChannelStreamReader(*b, 3, 1 << 30), FormatError);
}

TEST(ChannelStream, WriterRejectsWrongTotals) {
  auto [a, b] = make_memory_channel_pair();
  ChannelStreamWriter w(*a, 3, 10);
  EXPECT_THROW(w.write(pattern(11)), InvalidArgument);
  w.write(pattern(5));
  EXPECT_THROW(w.finish(), InvalidArgument);
}

}  // namespace
}  // namespace pinfer
