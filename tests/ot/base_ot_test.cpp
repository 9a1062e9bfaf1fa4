#include "pinfer/ot/base_ot.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <vector>

#include "ot_test_util.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer::ot {
namespace {

using testing::run_both;
using testing::run_two_party;

constexpr uint32_t kSetupFrame = 0x4F540001;  // src/ot/ot_frames.hpp
constexpr uint32_t kKeysFrame = 0x4F540002;

TEST(BaseOt, ReceiverGetsChosenKeyAndNotTheOther) {
  auto [a, b] = make_memory_channel_pair();
  const std::size_t n = 128;
  Prg prg;
  std::vector<uint8_t> choices(n);
  prg.fill_bits(choices);
  std::vector<Block> m0(n), m1(n), got(n);
  run_both(
      *a, *b,
      [&](Channel& ch) {
        Prg p;
        base_ot_send(ch, p, m0, m1);
      },
      [&](Channel& ch) {
        Prg p;
        base_ot_receive(ch, p, choices, got);
      });
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(got[i], choices[i] ? m1[i] : m0[i]) << i;
    EXPECT_NE(got[i], choices[i] ? m0[i] : m1[i]) << i;
    EXPECT_NE(m0[i], m1[i]) << i;
  }
  // Keys of distinct instances are distinct (independent derivation per index).
  EXPECT_NE(m0[0], m0[1]);
  // Bytes: 64 B sender -> receiver, 32 B per instance back, plus one frame header each.
  EXPECT_EQ(a->traffic().total.bytes_sent, base_ot_sender_bytes());
  EXPECT_EQ(b->traffic().total.bytes_sent, base_ot_receiver_bytes(n));
  EXPECT_EQ(base_ot_receiver_bytes(n), 12u + 32u * 128u);
}

TEST(BaseOt, RejectsBadArguments) {
  auto [a, b] = make_memory_channel_pair();
  Prg p;
  std::vector<Block> m0(4), m1(3), out(4);
  EXPECT_THROW(base_ot_send(*a, p, m0, m1), InvalidArgument);
  std::vector<Block> none;
  EXPECT_THROW(base_ot_send(*a, p, none, none), InvalidArgument);
  std::vector<uint8_t> bad = {0, 1, 2, 0};
  EXPECT_THROW(base_ot_receive(*b, p, bad, out), InvalidArgument);
  std::vector<Block> big(kMaxBaseOts + 1);
  EXPECT_THROW(base_ot_send(*a, p, big, big), InvalidArgument);
}

TEST(BaseOt, ReceiverRejectsInvalidPoint) {
  auto [a, b] = make_memory_channel_pair();
  std::array<std::byte, 64> hello;
  hello.fill(std::byte{0xFF});  // not a canonical encoding
  a->send(kSetupFrame, hello);
  Prg p;
  std::vector<uint8_t> choices(8, 0);
  std::vector<Block> out(8);
  EXPECT_THROW(base_ot_receive(*b, p, choices, out), FormatError);
}

TEST(BaseOt, ReceiverRejectsIdentityAndShortMessage) {
  {
    auto [a, b] = make_memory_channel_pair();
    std::array<std::byte, 64> hello{};  // both points the identity
    a->send(kSetupFrame, hello);
    Prg p;
    std::vector<uint8_t> choices(8, 0);
    std::vector<Block> out(8);
    EXPECT_THROW(base_ot_receive(*b, p, choices, out), ProtocolError);
  }
  {
    auto [a, b] = make_memory_channel_pair();
    std::array<std::byte, 40> hello{};
    a->send(kSetupFrame, hello);
    Prg p;
    std::vector<uint8_t> choices(8, 0);
    std::vector<Block> out(8);
    EXPECT_THROW(base_ot_receive(*b, p, choices, out), FormatError);
  }
}

TEST(BaseOt, SenderRejectsInvalidAndWrongSizedKeys) {
  for (int variant = 0; variant < 3; ++variant) {
    auto [a, b] = make_memory_channel_pair();
    const std::size_t n = 4;
    std::vector<Block> m0(n), m1(n);
    const auto r = run_two_party(
        *a, *b,
        [&](Channel& ch) {
          Prg p;
          base_ot_send(ch, p, m0, m1);
        },
        [&](Channel& ch) {
          std::array<std::byte, 64> hello;
          ch.recv_exact(kSetupFrame, hello);
          std::vector<std::byte> keys(variant == 2 ? 32 * n - 1 : 32 * n, std::byte{0});
          if (variant == 0) keys[5] = std::byte{0xFF};  // invalid encoding
          // variant 1: all-zero = identity points
          ch.send(kKeysFrame, keys);
        });
    ASSERT_TRUE(r.first) << variant;
    if (variant == 1) {
      EXPECT_THROW(std::rethrow_exception(r.first), ProtocolError);
    } else {
      EXPECT_THROW(std::rethrow_exception(r.first), FormatError);
    }
  }
}

}  // namespace
}  // namespace pinfer::ot
