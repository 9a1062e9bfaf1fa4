#include "pinfer/ot/cot.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "ot_test_util.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::ot {
namespace {

using testing::run_both;

struct CotRun {
  Block delta;
  std::vector<uint8_t> choices;
  std::vector<Block> k0;
  std::vector<Block> out;
};

// Constructs both sides (the base OTs) and makes extend calls of the given sizes; returns the
// concatenated outputs. With `seeds`, every random choice of both parties comes from them (outputs
// are then a function of the seeds); `threads` is both parties' set_threads.
CotRun run_cot(Channel& a, Channel& b, const std::vector<std::size_t>& calls, bool random_choice,
               unsigned threads = 1, std::optional<Block> seeds = {}) {
  CotRun r;
  const auto make_prg = [&](uint64_t stream) {
    return seeds ? Prg::from_seed(*seeds, stream) : Prg();
  };
  Prg seed = make_prg(0);
  // With seeds, a fixed offset (runs are compared byte for byte); otherwise a fresh one.
  const Delta delta =
      seeds ? Delta::from_block(Block(0x9e3779b97f4a7c15ull, seeds->hi)) : Delta::random();
  r.delta = delta;
  std::size_t total = 0;
  for (std::size_t c : calls) total += c;
  r.choices.resize(total);
  r.k0.resize(total);
  r.out.resize(total);
  if (!random_choice) seed.fill_bits(r.choices);
  run_both(
      a, b,
      [&](Channel& ch) {
        Prg p = make_prg(1);
        CotSender s(ch, delta, p);
        s.set_threads(threads);
        std::size_t off = 0;
        for (std::size_t c : calls) {
          s.extend(std::span(r.k0).subspan(off, c));
          off += c;
        }
        EXPECT_EQ(s.delta().block(), r.delta);
      },
      [&](Channel& ch) {
        Prg p = make_prg(2);
        CotReceiver rc(ch, p);
        rc.set_threads(threads);
        std::size_t off = 0;
        for (std::size_t c : calls) {
          if (random_choice) {
            rc.extend_random(std::span(r.choices).subspan(off, c),
                             std::span(r.out).subspan(off, c));
          } else {
            rc.extend(std::span(r.choices).subspan(off, c), std::span(r.out).subspan(off, c));
          }
          off += c;
        }
      });
  return r;
}

void expect_correlation(const CotRun& r) {
  std::size_t ones = 0;
  for (std::size_t j = 0; j < r.out.size(); ++j) {
    const Block want = r.k0[j] ^ (r.choices[j] ? r.delta : Block());
    ASSERT_EQ(r.out[j], want) << "OT " << j;
    // The receiver's output is never the label of the other choice.
    ASSERT_NE(r.out[j], want ^ r.delta) << "OT " << j;
    ones += r.choices[j];
  }
  // Outputs are not trivially zero or repeated.
  if (r.out.size() > 2) {
    EXPECT_NE(r.k0[0], r.k0[1]);
    EXPECT_NE(r.k0[0], Block());
  }
  if (r.out.size() >= 1000) {
    EXPECT_GT(ones, r.out.size() / 3);
    EXPECT_LT(ones, 2 * r.out.size() / 3);
  }
}

TEST(Cot, ChosenChoicesAcrossSeveralChunksAndCalls) {
  auto [a, b] = make_memory_channel_pair();
  // 150'000 spans three chunks; 1 and 333 are not multiples of 128.
  const CotRun r = run_cot(*a, *b, {150'000, 1, 333, 128}, false);
  expect_correlation(r);
}

TEST(Cot, RandomChoices) {
  auto [a, b] = make_memory_channel_pair();
  const CotRun r = run_cot(*a, *b, {100'003}, true);
  expect_correlation(r);
}

// Threads split each chunk's columns and transposes; the outputs and the bytes sent are the
// same for every thread count (fixed seeds: the runs are then functions of the seeds alone).
TEST(Cot, ThreeThreadsMatchOneByteForByte) {
  const Block seeds(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  for (bool random_choice : {false, true}) {
    // A full chunk, a padded chunk, and a call smaller than one 16-block transpose piece.
    const std::vector<std::size_t> calls = {65'536, 70'001, 300};
    auto [a1, b1] = make_memory_channel_pair();
    const CotRun one = run_cot(*a1, *b1, calls, random_choice, 1, seeds);
    auto [a3, b3] = make_memory_channel_pair();
    const CotRun three = run_cot(*a3, *b3, calls, random_choice, 3, seeds);
    expect_correlation(three);
    EXPECT_EQ(one.delta, three.delta);
    EXPECT_EQ(one.choices, three.choices);
    EXPECT_EQ(one.k0, three.k0) << "random choices " << random_choice;
    EXPECT_EQ(one.out, three.out) << "random choices " << random_choice;
    EXPECT_EQ(a1->traffic().total.bytes_sent, a3->traffic().total.bytes_sent);
    EXPECT_EQ(b1->traffic().total.bytes_sent, b3->traffic().total.bytes_sent);
  }
}

TEST(Cot, BytesPerOtAreSixteenFromReceiverOnly) {
  auto [a, b] = make_memory_channel_pair();
  const std::size_t n = 3 * kCotChunkOts + 77;
  const CotRun r = run_cot(*a, *b, {n}, false);
  expect_correlation(r);
  const uint64_t padded = (n + 127) / 128 * 128;
  EXPECT_EQ(cot_extend_receiver_bytes(n), 16 * padded + 4 * kFrameHeaderBytes);
  // a = COT sender, b = COT receiver.
  EXPECT_EQ(a->traffic().total.bytes_sent, cot_setup_sender_bytes());
  EXPECT_EQ(b->traffic().total.bytes_sent,
            cot_setup_receiver_bytes() + cot_extend_receiver_bytes(n));
  EXPECT_EQ(cot_setup_sender_bytes(), 12u + 128u * 32u);
  EXPECT_EQ(cot_setup_receiver_bytes(), 12u + 64u);
}

TEST(Cot, RejectsChannelWithSmallFrameCap) {
  auto [a, b] = make_memory_channel_pair({.max_frame_bytes = kOtMinFrameBytes - 1});
  Prg p;
  EXPECT_THROW(CotSender(*a, Delta::from_block(Block(1, 0)), p), InvalidArgument);
  EXPECT_THROW(CotReceiver(*b, p), InvalidArgument);
}

TEST(Cot, ReceiverRejectsBadChoicesAndSizes) {
  auto [a, b] = make_memory_channel_pair();
  Prg seed;
  const Delta delta = Delta::random();
  run_both(
      *a, *b,
      [&](Channel& ch) {
        Prg p;
        CotSender s(ch, delta, p);
      },
      [&](Channel& ch) {
        Prg p;
        CotReceiver rc(ch, p);
        std::vector<Block> out(10);
        std::vector<uint8_t> bad(10, 0);
        bad[3] = 7;
        EXPECT_THROW(rc.extend(bad, out), InvalidArgument);
        std::vector<uint8_t> short_choices(9, 0);
        EXPECT_THROW(rc.extend(short_choices, out), InvalidArgument);
      });
}

TEST(Cot, SenderRejectsWrongSizedColumns) {
  auto [a, b] = make_memory_channel_pair();
  Prg seed;
  const Delta delta = Delta::random();
  const auto res = testing::run_two_party(
      *a, *b,
      [&](Channel& ch) {
        Prg p;
        CotSender s(ch, delta, p);
        std::vector<Block> k0(1000);
        s.extend(k0);
      },
      [&](Channel& ch) {
        Prg p;
        CotReceiver rc(ch, p);
        // A peer that extends a different number of OTs sends a wrong-sized frame.
        std::vector<uint8_t> choices(2000, 0);
        std::vector<Block> out(2000);
        rc.extend(choices, out);
      });
  ASSERT_TRUE(res.first);
  EXPECT_THROW(std::rethrow_exception(res.first), FormatError);
}

}  // namespace
}  // namespace pinfer::ot
