#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "gc/gc_test_util.hpp"
#include "pinfer/core/channel.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"

namespace pinfer::gc {
namespace {

class StreamErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    instances_ = 200;
    zero_.resize(instances_ * relu_.circuit.num_inputs());
    LabelDeriver(os_random_block(), 0).zero_labels(0, zero_);
    out_.resize(instances_ * relu_.circuit.num_outputs());
    MemoryByteSink sink;
    (void)garble_batch(relu_.circuit, zero_, Delta::random(), 0, sink, out_);
    stream_ = sink.take();
  }
  void evaluate(std::span<const std::byte> bytes, uint64_t start = 0) {
    MemoryByteSource src(bytes);
    (void)evaluate_batch(relu_.circuit, zero_, start, src, out_);
    src.finish();
  }
  NonlinearCircuit relu_ = relu_step_circuit(32, 8);
  std::size_t instances_ = 0;
  std::vector<Block> zero_, out_;
  std::vector<std::byte> stream_;
};

TEST_F(StreamErrors, IntactStreamEvaluates) {
  EXPECT_NO_THROW(evaluate(stream_));
}

TEST_F(StreamErrors, ShortStreamIsFormatError) {
  for (std::size_t cut : {std::size_t{0}, std::size_t{20}, std::size_t{kStreamHeaderBytes},
                          std::size_t{100}, stream_.size() - 1}) {
    EXPECT_THROW(evaluate(std::span(stream_).first(cut)), FormatError) << "cut " << cut;
  }
}

TEST_F(StreamErrors, CorruptTableOrChecksumIsFormatError) {
  for (std::size_t pos :
       {std::size_t{kStreamHeaderBytes + 16}, std::size_t{kStreamHeaderBytes + 16 + 5000},
        stream_.size() - 1, stream_.size() - 16}) {
    std::vector<std::byte> bad = stream_;
    bad[pos] ^= std::byte{0x04};
    EXPECT_THROW(evaluate(bad), FormatError) << "pos " << pos;
  }
}

TEST_F(StreamErrors, WrongHeaderOrTweakRangeIsFormatError) {
  EXPECT_THROW(evaluate(stream_, 1), FormatError);  // other gate-index range
  std::vector<std::byte> bad = stream_;
  bad[0] ^= std::byte{1};  // magic
  EXPECT_THROW(evaluate(bad), FormatError);
  bad = stream_;
  bad[kStreamHeaderBytes + 4] ^= std::byte{1};  // batch instance count
  EXPECT_THROW(evaluate(bad), FormatError);
  std::vector<std::byte> longer = stream_;
  longer.resize(longer.size() + 8);
  EXPECT_THROW(evaluate(longer), FormatError);  // trailing bytes
}

TEST(GarbledStream, FileRoundTripAndTruncation) {
  const NonlinearCircuit relu = relu_step_circuit(37, 12);
  const std::size_t instances = 130;
  const Delta delta = Delta::random();
  const test::InputLabels in =
      test::random_input_labels(instances * relu.circuit.num_inputs(), delta);
  const std::vector<Block>&zero = in.zero, &active = in.active;
  const std::vector<uint8_t>& bits = in.bits;
  const std::filesystem::path path =
      std::filesystem::path(PINFER_BINARY_DIR) / "gc_file_roundtrip_test.bin";
  std::vector<Block> out_zero(instances * 37), out(out_zero.size());
  {
    FileByteSink sink(path);
    (void)garble_batch(relu.circuit, zero, delta, 0, sink, out_zero);
    sink.finish();
  }
  EXPECT_EQ(std::filesystem::file_size(path), garbled_stream_bytes(relu.circuit, instances));
  {
    FileByteSource source(path);
    (void)evaluate_batch(relu.circuit, active, 0, source, out);
    source.finish();
  }
  std::vector<uint8_t> decode(out.size()), got(out.size()), want(out.size());
  decode_bits(out_zero, decode);
  decode_outputs(out, decode, got);
  for (std::size_t i = 0; i < instances; ++i) {
    relu.circuit.evaluate_plain(
        std::span(bits).subspan(i * relu.circuit.num_inputs(), relu.circuit.num_inputs()),
        std::span(want).subspan(i * 37, 37));
  }
  EXPECT_EQ(got, want);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 100);
  {
    FileByteSource source(path);
    EXPECT_THROW((void)evaluate_batch(relu.circuit, active, 0, source, out), FormatError);
  }
  std::filesystem::remove(path);
}

// A layer garbled in chunks: consecutive calls append segments to one sink, gate indices
// threaded through; evaluated by the same calls on one source.
TEST(GarbledStream, ChunkedCallsShareOneStream) {
  const NonlinearCircuit relu = relu_step_circuit(16, 8);
  const uint32_t width = relu.circuit.num_inputs();
  const std::size_t chunks[] = {100, 1, 257};
  const Delta delta = Delta::random();
  MemoryByteSink sink;
  std::vector<std::vector<Block>> active, out_zero;
  std::vector<std::vector<uint8_t>> bits;
  uint64_t next = 0, total_bytes = 0;
  for (std::size_t n : chunks) {
    test::InputLabels in = test::random_input_labels(n * width, delta);
    std::vector<Block> oz(n * 16);
    next = garble_batch(relu.circuit, in.zero, delta, next, sink, oz).next_gate_index;
    total_bytes += garbled_stream_bytes(relu.circuit, n);
    active.push_back(std::move(in.active));
    out_zero.push_back(std::move(oz));
    bits.push_back(std::move(in.bits));
  }
  EXPECT_EQ(sink.bytes().size(), total_bytes);
  EXPECT_EQ(next, 358 * relu.circuit.and_count());
  MemoryByteSource source(sink.bytes());
  uint64_t start = 0;
  for (std::size_t c = 0; c < 3; ++c) {
    std::vector<Block> out(chunks[c] * 16);
    start = evaluate_batch(relu.circuit, active[c], start, source, out).next_gate_index;
    std::vector<uint8_t> decode(out.size()), got(out.size()), want(16);
    decode_bits(out_zero[c], decode);
    decode_outputs(out, decode, got);
    for (std::size_t i = 0; i < chunks[c]; ++i) {
      relu.circuit.evaluate_plain(std::span(bits[c]).subspan(i * width, width), want);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), got.begin() + i * 16)) << c << " " << i;
    }
  }
  source.finish();
}

TEST(GarbledStream, ChannelRoundTrip) {
  const NonlinearCircuit relu = relu_step_circuit(32, 8);
  const std::size_t instances = 250;
  const Delta delta = Delta::random();
  const test::InputLabels in =
      test::random_input_labels(instances * relu.circuit.num_inputs(), delta);
  const std::vector<Block>&zero = in.zero, &active = in.active;
  const std::vector<uint8_t>& bits = in.bits;
  auto [garbler_end, evaluator_end] = make_memory_channel_pair();
  std::vector<Block> out_zero(instances * 32), out(out_zero.size());
  GarbleStats sent;
  std::thread garbler([&, &garbler_end = garbler_end] {
    ChannelByteSink sink(*garbler_end, 7, garbled_stream_bytes(relu.circuit, instances), 4096);
    sent = garble_batch(relu.circuit, zero, delta, 0, sink, out_zero);
    sink.finish();
  });
  ChannelByteSource source(*evaluator_end, 7, uint64_t{1} << 30, 4096);
  const GarbleStats got = evaluate_batch(relu.circuit, active, 0, source, out);
  source.finish();
  garbler.join();
  EXPECT_EQ(got.stream_bytes, sent.stream_bytes);
  EXPECT_EQ(source.total_bytes(), sent.stream_bytes);
  std::vector<uint8_t> decode(out.size()), dec(out.size()), want(32);
  decode_bits(out_zero, decode);
  decode_outputs(out, decode, dec);
  for (std::size_t i = 0; i < instances; ++i) {
    relu.circuit.evaluate_plain(std::span(bits).subspan(i * 96, 96), want);
    ASSERT_TRUE(std::equal(want.begin(), want.end(), dec.begin() + i * 32)) << i;
  }
}

}  // namespace
}  // namespace pinfer::gc
