#include "pinfer/core/channel.hpp"

#include <gtest/gtest.h>

#include "expect_message.hpp"

#include <string>
#include <thread>

#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

using test_support::message_of;

TEST(MemoryChannel, FramesRoundTripInOrderBothWays) {
  auto [a, b] = make_memory_channel_pair();
  std::thread peer([&b = *b] {
    const auto req = b.recv(1, 100);
    b.send(2, req);
    b.send(3, {});
  });
  a->send(1, bytes_of("hello"));
  const auto echo = a->recv(2, 5);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(echo.data()), echo.size()), "hello");
  EXPECT_TRUE(a->recv(3, 0).empty());
  peer.join();
}

TEST(MemoryChannel, RecvExactFillsTheBufferOrRejectsOtherLengths) {
  auto [a, b] = make_memory_channel_pair();
  a->send(1, bytes_of("abcd"));
  std::byte out[4];
  b->recv_exact(1, out);
  EXPECT_EQ(out[3], std::byte{'d'});
  a->send(1, bytes_of("abc"));
  EXPECT_THROW(b->recv_exact(1, out), FormatError);
}

TEST(MemoryChannel, TypeMismatchIsProtocolError) {
  auto [a, b] = make_memory_channel_pair();
  a->send(5, bytes_of("x"));
  const std::string msg = message_of<ProtocolError>([&b = b] { (void)b->recv(6, 10); });
  EXPECT_NE(msg.find("expected frame type 6, received type 5"), std::string::npos) << msg;
}

TEST(MemoryChannel, RecvOneOfTakesAnyExpectedTypeWithItsOwnCap) {
  auto [a, b] = make_memory_channel_pair();
  const FrameExpectation expected[] = {{7, 4}, {8, 100}};
  a->send(8, bytes_of("answer"));
  a->send(7, bytes_of("note"));
  const ReceivedFrame first = b->recv_one_of(expected);
  EXPECT_EQ(first.type, 8u);
  EXPECT_EQ(first.payload.size(), 6u);
  EXPECT_EQ(b->recv_one_of(expected).type, 7u);
  // Type 7 accepts at most 4 bytes, even though type 8 would accept more.
  a->send(7, bytes_of("too long"));
  EXPECT_THROW((void)b->recv_one_of(expected), FormatError);
  auto [c, d] = make_memory_channel_pair();
  c->send(9, bytes_of("x"));
  const std::string msg =
      message_of<ProtocolError>([&d = d, &expected] { (void)d->recv_one_of(expected); });
  EXPECT_NE(msg.find("expected frame type 7 or 8, received type 9"), std::string::npos) << msg;
  // The peer's error frame is still its error, with its reason.
  c->send_error("busy", ErrorReason::server_busy);
  try {
    (void)d->recv_one_of(expected);
    ADD_FAILURE() << "no error";
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.reason(), ErrorReason::server_busy);
  }
}

TEST(MemoryChannel, LengthAboveCapIsFormatError) {
  MemoryChannelOptions opt;
  opt.max_frame_bytes = 100;
  auto [a, b] = make_memory_channel_pair(opt);
  a->send(1, std::vector<std::byte>(11));
  EXPECT_THROW((void)b->recv(1, 10), FormatError);  // the caller's cap
  // The channel's cap applies even when the caller's is larger.
  MemoryChannelOptions small;
  small.max_frame_bytes = 10;
  auto [e, f] = make_memory_channel_pair(small);
  EXPECT_THROW(e->send(1, std::vector<std::byte>(11)), InvalidArgument);
}

TEST(MemoryChannel, PeerCloseIsIoError) {
  auto [a, b] = make_memory_channel_pair();
  a->close();
  EXPECT_THROW((void)b->recv(1, 10), IoError);
  EXPECT_THROW(b->send(1, bytes_of("x")), IoError);
}

TEST(MemoryChannel, FramesSentBeforeCloseAreStillDelivered) {
  auto [a, b] = make_memory_channel_pair();
  a->send(1, bytes_of("last"));
  a.reset();  // destroys (closes) the sender
  EXPECT_EQ(b->recv(1, 10).size(), 4u);
  EXPECT_THROW((void)b->recv(1, 10), IoError);
}

TEST(MemoryChannel, ReceiveTimeoutIsIoError) {
  MemoryChannelOptions opt;
  opt.recv_timeout_ms = 20;
  auto [a, b] = make_memory_channel_pair(opt);
  const std::string msg = message_of<IoError>([&b = b] { (void)b->recv(1, 10); });
  EXPECT_NE(msg.find("timed out after 20 ms"), std::string::npos) << msg;
}

TEST(MemoryChannel, SendErrorIsProtocolErrorWithTheMessage) {
  auto [a, b] = make_memory_channel_pair();
  a->send_error("weights do not match the architecture");
  const std::string msg = message_of<ProtocolError>([&b = b] { (void)b->recv(1, 10); });
  EXPECT_NE(msg.find("peer reported an error: weights do not match the architecture"),
            std::string::npos)
      << msg;
}

TEST(MemoryChannel, ErrorReasonCrossesTheWire) {
  auto [a, b] = make_memory_channel_pair();
  a->send_error(StoreError("store full: 10 of 10 bytes used"));
  try {
    (void)b->recv(1, 10);
    ADD_FAILURE() << "no error";
  } catch (const StoreError& e) {  // a store refusal stays a StoreError on the other side
    EXPECT_EQ(e.reason(), ErrorReason::store);
    EXPECT_NE(std::string(e.what()).find("store full"), std::string::npos) << e.what();
  }
  a->send_error("server busy: 4 sessions active", ErrorReason::server_busy);
  try {
    (void)b->recv(1, 10);
    ADD_FAILURE() << "no error";
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.reason(), ErrorReason::server_busy);
  }
  // A reason number this build does not know (a newer peer) is still an error, unspecified.
  std::vector<std::byte> payload = encode_error_payload(ErrorReason::store, "x");
  payload[0] = std::byte{250};
  try {
    throw_peer_error(payload);
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.reason(), ErrorReason::unspecified);
  }
  EXPECT_THROW(throw_peer_error({}), ProtocolError);
}

TEST(MemoryChannel, SendErrorAfterCloseIsDroppedAndNotCounted) {
  auto [a, b] = make_memory_channel_pair();
  a->send(1, std::vector<std::byte>(3));
  b->close();
  a->send_error("late");  // best effort, noexcept: the frame cannot go out
  // Only the frame that left is counted; the error frame that could not be written is not.
  EXPECT_EQ(a->traffic().total.bytes_sent, kFrameHeaderBytes + 3);
  // The channel still reports the closed peer on the next use.
  EXPECT_THROW(a->send(1, std::vector<std::byte>(1)), IoError);
}

TEST(MemoryChannel, TrafficCountersPerPhase) {
  auto [a, b] = make_memory_channel_pair();
  EXPECT_EQ(a->phase(), "default");
  a->set_phase("offline/ot");
  b->set_phase("offline/ot");
  a->send(1, std::vector<std::byte>(100));
  a->send(1, {});
  (void)b->recv(1, 100);
  (void)b->recv(1, 0);
  a->set_phase("online");
  b->set_phase("online");
  b->send(2, std::vector<std::byte>(7));
  (void)a->recv(2, 7);
  const uint64_t h = kFrameHeaderBytes;
  const TrafficReport ta = a->traffic();
  const TrafficReport tb = b->traffic();
  EXPECT_EQ(ta.by_phase.at("offline/ot").bytes_sent, 2 * h + 100);
  EXPECT_EQ(ta.by_phase.at("offline/ot").bytes_received, 0u);
  EXPECT_EQ(tb.by_phase.at("offline/ot").bytes_received, 2 * h + 100);
  EXPECT_EQ(ta.by_phase.at("online").bytes_received, h + 7);
  EXPECT_EQ(tb.by_phase.at("online").bytes_sent, h + 7);
  EXPECT_EQ(ta.total.bytes_sent, tb.total.bytes_received);
  EXPECT_EQ(ta.total.bytes_received, tb.total.bytes_sent);
  EXPECT_EQ(ta.by_phase.count("default"), 0u);
}

TEST(MemoryChannel, ErrorFrameIsCountedWhenReceived) {
  auto [a, b] = make_memory_channel_pair();
  a->send_error("abc");
  EXPECT_THROW((void)b->recv(1, 10), ProtocolError);
  EXPECT_EQ(b->traffic().total.bytes_received, kFrameHeaderBytes + 1 + 3);  // reason byte + text
}

// channel.hpp: "every frame is counted (header + payload) per direction". The receiver counts
// an error frame (test above), but the sender does not, so the two sides' totals disagree.
TEST(MemoryChannel, ErrorFrameIsCountedWhenSent) {
  auto [a, b] = make_memory_channel_pair();
  a->send_error("abc");
  EXPECT_EQ(a->traffic().total.bytes_sent, kFrameHeaderBytes + 1 + 3);  // reason byte + text
}

}  // namespace
}  // namespace pinfer
