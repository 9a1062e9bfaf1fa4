#include "pinfer/ot/random_ot.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "ot_test_util.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::ot {
namespace {

using testing::run_both;

TEST(RandomOt, ReceiverGetsChosenMessageOnly) {
  auto [a, b] = make_memory_channel_pair();
  const std::size_t n = 100'001;  // two chunks, not a multiple of 128
  Prg seed;
  std::vector<uint8_t> choices(n);
  seed.fill_bits(choices);
  std::vector<Block> m0(n), m1(n), got(n);
  run_both(
      *a, *b,
      [&](Channel& ch) {
        Prg p;
        CotSender s(ch, Delta::random(), p);
        rot_send(s, std::span(m0).first(5), std::span(m1).first(5));
        rot_send(s, std::span(m0).subspan(5), std::span(m1).subspan(5));
      },
      [&](Channel& ch) {
        Prg p;
        CotReceiver r(ch, p);
        rot_receive(r, std::span(choices).first(5), std::span(got).first(5));
        rot_receive(r, std::span(choices).subspan(5), std::span(got).subspan(5));
      });
  Block xor_all;
  for (std::size_t j = 0; j < n; ++j) {
    ASSERT_EQ(got[j], choices[j] ? m1[j] : m0[j]) << j;
    ASSERT_NE(got[j], choices[j] ? m0[j] : m1[j]) << j;
    // Hashing removed the correlation: m0 ^ m1 is not a constant Delta.
    if (j > 0) {
      ASSERT_NE(m0[j] ^ m1[j], m0[j - 1] ^ m1[j - 1]) << j;
    }
    xor_all ^= got[j];
  }
  EXPECT_NE(xor_all, Block());
}

TEST(ChosenOt, ReceiverGetsChosenMessage) {
  auto [a, b] = make_memory_channel_pair();
  const std::size_t n = 2 * kCotChunkOts + 1'000;  // three chunks, the last partial
  Prg seed;
  std::vector<uint8_t> choices(n);
  seed.fill_bits(choices);
  std::vector<Block> m0(n), m1(n), got(n);
  seed.fill_blocks(m0);
  seed.fill_blocks(m1);
  run_both(
      *a, *b,
      [&](Channel& ch) {
        Prg p;
        CotSender s(ch, Delta::random(), p);
        ot_send(s, m0, m1);
      },
      [&](Channel& ch) {
        Prg p;
        CotReceiver r(ch, p);
        ot_receive(r, choices, got);
      });
  for (std::size_t j = 0; j < n; ++j) {
    ASSERT_EQ(got[j], choices[j] ? m1[j] : m0[j]) << j;
    ASSERT_NE(got[j], choices[j] ? m0[j] : m1[j]) << j;
  }
  EXPECT_EQ(a->traffic().total.bytes_sent, cot_setup_sender_bytes() + ot_send_bytes(n));
  EXPECT_EQ(ot_send_bytes(n), 32 * n + 3 * kFrameHeaderBytes);
  EXPECT_EQ(b->traffic().total.bytes_sent,
            cot_setup_receiver_bytes() + cot_extend_receiver_bytes(n));
}

TEST(ChosenOt, ReceiverRejectsShortFrame) {
  auto [a, b] = make_memory_channel_pair();
  const std::size_t n = 300;
  const auto res = testing::run_two_party(
      *a, *b,
      [&](Channel& ch) {
        Prg p;
        CotReceiver r(ch, p);
        std::vector<uint8_t> choices(n, 1);
        std::vector<Block> got(n);
        ot_receive(r, choices, got);
      },
      [&](Channel& ch) {
        Prg p;
        CotSender s(ch, Delta::random(), p);
        std::vector<Block> k0(n);
        s.extend(k0);
        std::vector<std::byte> msg(32 * n - 16);
        ch.send(0x4F540004, msg);  // kFrameChosenOt, one message short
      });
  ASSERT_TRUE(res.first);
  EXPECT_THROW(std::rethrow_exception(res.first), FormatError);
}

}  // namespace
}  // namespace pinfer::ot
