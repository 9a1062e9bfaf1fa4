// The protocol's side of bounded admission over the in-memory channel: the client hears its
// places before the first answer and then proceeds, a full queue arrives as ServerBusyError with
// the server's retry-after hint, the client's own queue bound, retry_while_busy honouring hints
// (waits counted, never slept), and a client of the previous session version refused by the
// server's greeting before it could be queued.
#include "pinfer/protocol/admission.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "expect_message.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/serialization.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "protocol/admission_impl.hpp"
#include "protocol/frames.hpp"
#include "protocol/session_messages.hpp"

using namespace pinfer;
using namespace pinfer::protocol;
using pinfer::test_support::message_of;

namespace {

std::vector<std::byte> bytes_of(std::string_view s) {
  const auto b = std::as_bytes(std::span<const char>(s.data(), s.size()));
  return {b.begin(), b.end()};
}

TEST(Admission, FramesRoundTripAndRejectMalformedBytes) {
  const QueuePlace place{3, 7, 1500};
  const QueuePlace back = detail::decode_queue_place(detail::encode(place));
  EXPECT_EQ(back.position, 3u);
  EXPECT_EQ(back.waiting, 7u);
  EXPECT_EQ(back.estimated_wait_ms, 1500u);
  EXPECT_THROW((void)detail::decode_queue_place(detail::encode(QueuePlace{8, 7, 0})),
               FormatError);  // a place beyond the queue's length
  std::vector<std::byte> short_place = detail::encode(place);
  short_place.pop_back();
  EXPECT_THROW((void)detail::decode_queue_place(short_place), FormatError);
  const BusyNotice busy{250, 16, 64};
  EXPECT_EQ(detail::decode_busy(detail::encode(busy)).retry_after_ms, 250u);
  // A peer cannot park a client for days.
  EXPECT_EQ(detail::decode_busy(detail::encode(BusyNotice{uint64_t{1} << 40, 1, 1})).retry_after_ms,
            kMaxRetryAfterMs);
}

TEST(Admission, ClientHearsItsPlacesThenGetsTheAnswer) {
  auto [client, server] = make_memory_channel_pair();
  send_queue_place(*server, {2, 2, 800});
  send_queue_place(*server, {1, 1, 400});
  send_queue_place(*server, {0, 0, 0});
  server->send(frames::kHelloReply, bytes_of("reply"));
  std::vector<QueuePlace> seen;
  AdmissionOptions options;
  options.on_place = [&](const QueuePlace& p) { seen.push_back(p); };
  AdmissionRecord record;
  const std::vector<std::byte> answer =
      detail::recv_after_admission(*client, frames::kHelloReply, 16, options, &record);
  EXPECT_EQ(answer, bytes_of("reply"));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].position, 2u);
  EXPECT_EQ(seen[1].position, 1u);
  EXPECT_EQ(seen[2].position, 0u);
  EXPECT_EQ(record.places_received, 3u);
  EXPECT_EQ(record.first_position, 2u);
  // Admitted at once: no places, no wait.
  server->send(frames::kHelloReply, bytes_of("again"));
  EXPECT_EQ(detail::recv_after_admission(*client, frames::kHelloReply, 16, {}, &record),
            bytes_of("again"));
  EXPECT_EQ(record.places_received, 0u);
  EXPECT_EQ(record.queued_for.count(), 0);
}

TEST(Admission, PlaceAfterAdmissionIsAProtocolError) {
  auto [client, server] = make_memory_channel_pair();
  send_queue_place(*server, {0, 0, 0});
  send_queue_place(*server, {1, 1, 0});
  EXPECT_THROW((void)detail::recv_after_admission(*client, frames::kHelloReply, 16, {}),
               ProtocolError);
}

TEST(Admission, FullQueueIsAServerBusyErrorWithTheHint) {
  auto [client, server] = make_memory_channel_pair();
  send_busy(*server, {1234, 16, 64});
  try {
    (void)detail::recv_after_admission(*client, frames::kHelloReply, 16, {});
    ADD_FAILURE() << "no error";
  } catch (const ServerBusyError& e) {
    EXPECT_EQ(e.reason(), ErrorReason::server_busy);
    EXPECT_EQ(e.retry_after_ms(), 1234u);
    EXPECT_NE(std::string(e.what()).find("retry after 1234 ms"), std::string::npos) << e.what();
  }
}

TEST(Admission, ServerQueueTimeoutArrivesWithItsReason) {
  auto [client, server] = make_memory_channel_pair();
  send_queue_place(*server, {1, 1, 0});
  server->send_error("waited too long", ErrorReason::queue_timeout);
  try {
    (void)detail::recv_after_admission(*client, frames::kHelloReply, 16, {});
    ADD_FAILURE() << "no error";
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.reason(), ErrorReason::queue_timeout);
  }
}

TEST(Admission, ClientGivesUpAfterItsOwnQueueBound) {
  auto [client, server] = make_memory_channel_pair();
  send_queue_place(*server, {1, 1, 0});
  AdmissionOptions options;
  options.max_queue_wait_ms = 0;  // any wait is too long
  try {
    (void)detail::recv_after_admission(*client, frames::kHelloReply, 16, options);
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_EQ(e.reason(), ErrorReason::queue_timeout);
  }
}

TEST(RetryWhileBusy, WaitsTheHintBetweenAttemptsThenSucceeds) {
  std::vector<uint64_t> waits;
  RetryPolicy policy;
  policy.sleep = [&](std::chrono::milliseconds ms) { waits.push_back(ms.count()); };
  int attempts = 0;
  const std::size_t refusals = retry_while_busy(
      [&] {
        if (++attempts <= 3) throw ServerBusyError("busy", 100 * attempts);
      },
      policy);
  EXPECT_EQ(refusals, 3u);
  EXPECT_EQ(attempts, 4);
  ASSERT_EQ(waits.size(), 3u);
  for (std::size_t i = 0; i < waits.size(); ++i) {
    const uint64_t hint = 100 * (i + 1);
    EXPECT_GE(waits[i], hint);              // never before the server's hint
    EXPECT_LE(waits[i], hint + hint / 10);  // at most 10 % of jitter after it
  }
}

TEST(RetryWhileBusy, GivesUpAfterMaxAttemptsWithTheLastRefusal) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  int slept = 0;
  policy.sleep = [&](std::chrono::milliseconds) { ++slept; };
  int attempts = 0;
  try {
    (void)retry_while_busy([&] { throw ServerBusyError("busy " + std::to_string(++attempts), 5); },
                           policy);
    ADD_FAILURE() << "no error";
  } catch (const ServerBusyError& e) {
    EXPECT_EQ(std::string(e.what()), "busy 3");
  }
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(slept, 2);
}

TEST(RetryWhileBusy, GivesUpWhenTheWaitsWouldPassTheBound) {
  RetryPolicy policy;
  policy.max_wait_ms = 1000;
  std::vector<uint64_t> waits;
  policy.sleep = [&](std::chrono::milliseconds ms) { waits.push_back(ms.count()); };
  EXPECT_THROW((void)retry_while_busy([&] { throw ServerBusyError("busy", 600); }, policy),
               ServerBusyError);
  EXPECT_EQ(waits.size(), 1u);  // a second wait of >= 600 ms would pass 1000 ms in total
}

TEST(RetryWhileBusy, OtherErrorsAreNotRetried) {
  RetryPolicy policy;
  policy.sleep = [](std::chrono::milliseconds) { ADD_FAILURE() << "waited"; };
  int attempts = 0;
  EXPECT_THROW((void)retry_while_busy(
                   [&] {
                     ++attempts;
                     throw ProtocolError("queue timeout", ErrorReason::queue_timeout);
                   },
                   policy),
               ProtocolError);
  EXPECT_EQ(attempts, 1);
}

// The server reads the hello before a connection may wait in its queue: a client of the
// previous session version hears why at once, not a frame type it does not know.
TEST(Admission, PreviousSessionVersionIsRefusedByTheGreeting) {
  detail::Hello hello;
  hello.client_id = "client-1";
  hello.token = SecretBuffer<std::byte>(kClientTokenBytes);
  SecretBuffer<std::byte> bytes = detail::encode(hello);
  bytes[4] = std::byte{4};  // version 4: before admission frames
  bytes[5] = bytes[6] = bytes[7] = std::byte{0};
  auto [client, server] = make_memory_channel_pair();
  client->send(frames::kHello, bytes.span());
  EXPECT_THROW((void)InferenceServer::read_greeting(*server), FormatError);
  try {
    (void)client->recv(frames::kHelloReply, 1024);
    ADD_FAILURE() << "no error";
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.reason(), ErrorReason::version_mismatch);
    EXPECT_NE(std::string(e.what()).find("session version 4 is not supported"), std::string::npos)
        << e.what();
  }
}

}  // namespace
