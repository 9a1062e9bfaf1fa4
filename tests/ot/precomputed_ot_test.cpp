#include "pinfer/ot/precomputed_ot.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "ot_test_util.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/ot/cot.hpp"
#include "pinfer/ot/random_ot.hpp"

namespace pinfer::ot {
namespace {

using testing::run_both;

// Offline random-choice COT, online derandomization to the receiver's real bits b; the labels
// must equal those of a direct chosen-message OT on (L0, L0 ^ Delta) with choices b.
TEST(PrecomputedOt, DerandomizedLabelsMatchDirectOt) {
  auto [a, b] = make_memory_channel_pair();
  const std::size_t n = 20'005;
  Prg seed;
  const Block delta = CotSender::random_delta(seed);
  std::vector<uint8_t> real_bits(n);
  seed.fill_bits(real_bits);
  std::vector<Block> zero_labels(n), one_labels(n);
  seed.fill_blocks(zero_labels);
  for (std::size_t j = 0; j < n; ++j) one_labels[j] = zero_labels[j] ^ delta;

  std::vector<Block> derand_labels(n), direct_labels(n);
  std::vector<uint8_t> c(n);
  uint64_t online_up = 0, online_down = 0;
  run_both(
      *a, *b,
      [&](Channel& ch) {
        Prg p;
        CotSender s(ch, delta, p);
        s.setup();
        std::vector<Block> k0(n);
        s.extend(k0);  // offline
        ch.set_phase("online");
        derandomize_send(ch, k0, zero_labels, delta);
        ch.set_phase("direct");
        ot_send(s, zero_labels, one_labels);
      },
      [&](Channel& ch) {
        Prg p;
        CotReceiver r(ch, p);
        r.setup();
        std::vector<Block> m(n);
        r.extend_random(c, m);  // offline
        ch.set_phase("online");
        derandomize_receive(ch, real_bits, c, m, derand_labels);
        const TrafficReport t = ch.traffic();
        online_up = t.by_phase.at("online").bytes_sent;
        online_down = t.by_phase.at("online").bytes_received;
        ch.set_phase("direct");
        ot_receive(r, real_bits, direct_labels);
      });
  std::size_t flips = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const Block want = real_bits[j] ? one_labels[j] : zero_labels[j];
    ASSERT_EQ(derand_labels[j], want) << j;
    ASSERT_EQ(direct_labels[j], want) << j;
    ASSERT_NE(derand_labels[j], want ^ delta) << j;
    flips += c[j] ^ real_bits[j];
  }
  EXPECT_GT(flips, 0u);
  EXPECT_LT(flips, n);
  // Online: 1 bit per OT up, 16 B per OT down (+ one frame header each way).
  EXPECT_EQ(online_up, derandomize_receiver_bytes(n));
  EXPECT_EQ(online_up, (n + 7) / 8 + kFrameHeaderBytes);
  EXPECT_EQ(online_down, derandomize_sender_bytes(n));
  EXPECT_EQ(online_down, 16 * n + kFrameHeaderBytes);
}

TEST(PrecomputedOt, LocalHelpersCompose) {
  Prg prg;
  const std::size_t n = 37;
  Block delta = prg.next_block();
  delta.lo |= 1;
  std::vector<uint8_t> bits(n), c(n);
  prg.fill_bits(bits);
  prg.fill_bits(c);
  std::vector<Block> k0(n), l0(n), m(n), e(n), labels(n);
  prg.fill_blocks(k0);
  prg.fill_blocks(l0);
  for (std::size_t j = 0; j < n; ++j) m[j] = k0[j] ^ (c[j] ? delta : Block());
  const std::vector<std::byte> d = derandomize_choices(bits, c);
  ASSERT_EQ(d.size(), 5u);
  derandomize_corrections(k0, l0, delta, d, e);
  derandomize_labels(m, e, labels);
  for (std::size_t j = 0; j < n; ++j) {
    EXPECT_EQ(labels[j], l0[j] ^ (bits[j] ? delta : Block())) << j;
  }
}

// More than one online frame, with locally made correlated pairs.
TEST(PrecomputedOt, ChannelHelpersSpanSeveralFrames) {
  auto [a, b] = make_memory_channel_pair();
  const std::size_t n = 3 * kDerandomizeFrameOts + 77;
  Prg prg;
  Block delta = prg.next_block();
  delta.lo |= 1;
  std::vector<uint8_t> bits(n), c(n);
  prg.fill_bits(bits);
  prg.fill_bits(c);
  std::vector<Block> k0(n), l0(n), m(n), labels(n);
  prg.fill_blocks(k0);
  prg.fill_blocks(l0);
  for (std::size_t j = 0; j < n; ++j) m[j] = k0[j] ^ (delta & Block::mask_of(c[j]));
  run_both(
      *a, *b, [&](Channel& ch) { derandomize_send(ch, k0, l0, delta); },
      [&](Channel& ch) { derandomize_receive(ch, bits, c, m, labels); });
  for (std::size_t j = 0; j < n; ++j) {
    ASSERT_EQ(labels[j], l0[j] ^ (delta & Block::mask_of(bits[j]))) << j;
  }
  EXPECT_EQ(b->traffic().total.bytes_sent, derandomize_receiver_bytes(n));
  EXPECT_EQ(derandomize_receiver_bytes(n), (n + 7) / 8 + 4 * kFrameHeaderBytes);
  EXPECT_EQ(a->traffic().total.bytes_sent, 16 * n + 4 * kFrameHeaderBytes);
}

TEST(PrecomputedOt, MalformedChoiceMessageIsRejected) {
  const std::size_t n = 13;
  std::vector<Block> k0(n), l0(n), e(n);
  const Block delta(1, 0);
  std::vector<std::byte> short_d(1);
  EXPECT_THROW(derandomize_corrections(k0, l0, delta, short_d, e), FormatError);
  std::vector<std::byte> padded(2);
  padded[1] = std::byte{0x80};  // bit 15 of 13
  EXPECT_THROW(derandomize_corrections(k0, l0, delta, padded, e), FormatError);
  std::vector<uint8_t> b(n, 0), c(n + 1, 0);
  EXPECT_THROW((void)derandomize_choices(b, c), InvalidArgument);
}

}  // namespace
}  // namespace pinfer::ot
