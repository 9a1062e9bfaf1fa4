// The server loop over TLS 1.3: registration and authenticated sessions bit-exact over
// loopback, a silent client dropped by the handshake timeout (its session slot freed), and
// busy refusals delivered over TLS.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "expect_message.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/service/inference_service.hpp"
#include "protocol/test_models.hpp"
#include "transport/tcp_test_util.hpp"
#include "transport/tls_test_util.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
using namespace pinfer::store;
using pinfer::test_support::message_of;

namespace {

class TlsService : public ::testing::Test {
 protected:
  fs::path dir_ = fs::temp_directory_path() / ("pinfer-tls-service-" + new_precompute_id());
  nn::LoweredModel model_ = test_models::small_test_model(31);
  PrecomputeStore server_store_{dir_ / "server", {.capacity_bytes = 1ull << 32}};
  ClientRegistry registry_{dir_ / "server" / "CLIENTS"};
  InferenceServer server_{model_, ProtocolKind::server_garbler, server_store_, registry_};
  transport::PemCertificate cert_ = transport::make_certificate({});
  std::shared_ptr<const transport::TlsClientContext> pinned_ =
      transport::TlsClientContext::pinned(transport::certificate_fingerprint(cert_.cert_pem));

  ~TlsService() override { fs::remove_all(dir_); }

  service::ServiceOptions options(std::size_t max_sessions = 16, uint64_t handshake_ms = 10'000) {
    service::ServiceOptions o;
    o.max_sessions = max_sessions;
    o.tls = transport::test::server_context(cert_);
    o.tcp.handshake_timeout_ms = handshake_ms;
    return o;
  }
  std::unique_ptr<transport::TcpChannel> connect(uint16_t port) {
    return transport::TcpChannel::connect(transport::Endpoint{"127.0.0.1", port}, {}, pinned_);
  }
  // Registers over TLS, then precomputes and infers in a second session.
  bool full_client(uint16_t port, const std::string& name, uint64_t seed) {
    ClientCredentials creds;
    {
      auto ch = connect(port);
      creds = register_with_server(*ch);
    }
    PrecomputeStore store(dir_ / name, {.capacity_bytes = 1ull << 32});
    auto ch = connect(port);
    InferenceClient client(*ch, store, {std::move(creds), ProtocolKind::server_garbler});
    (void)client.precompute();
    const FloatTensor x = test_models::random_input(model_.input_shape, seed);
    const InferenceResult rep = client.infer(x, false);
    client.close();
    return rep.logits_ring == nn::run_fixed_point(model_, nn::encode_input(model_, x)).values();
  }
};

TEST_F(TlsService, RegisteredClientsRunBitExactOverTls) {
  service::InferenceService service(server_, options());
  std::thread loop([&] { service.run(); });
  bool a = false, b = false;
  std::thread other([&] { b = full_client(service.port(), "b", 2); });
  a = full_client(service.port(), "a", 1);
  other.join();
  service.stop();
  loop.join();
  EXPECT_TRUE(a);
  EXPECT_TRUE(b);
  EXPECT_EQ(registry_.size(), 2u);
  EXPECT_EQ(service.stats().sessions_completed, 4u);  // two registrations, two sessions
}

TEST_F(TlsService, SilentClientIsDroppedAfterTheHandshakeTimeoutAndFreesItsSlot) {
  service::InferenceService service(server_, options(/*max_sessions=*/1, /*handshake_ms=*/300));
  std::thread loop([&] { service.run(); });
  {
    // Connects and says nothing: it holds the only slot until the handshake timeout.
    transport::test::RawSocket silent(service.port());
    // The next client is refused while the slot is held, or served once it is free.
    EXPECT_TRUE(transport::test::served_once_free(
        [&](int i) { return full_client(service.port(), "next" + std::to_string(i), 3); }));
  }
  service.stop();
  loop.join();
  EXPECT_EQ(service.stats().handshakes_failed, 1u);
}

TEST_F(TlsService, WrongTokenIsRefusedOverTls) {
  service::InferenceService service(server_, options());
  std::thread loop([&] { service.run(); });
  ClientCredentials creds;
  {
    auto ch = connect(service.port());
    creds = register_with_server(*ch);
  }
  creds.token[0] ^= std::byte{1};
  PrecomputeStore store(dir_ / "forger", {.capacity_bytes = 1ull << 32});
  auto ch = connect(service.port());
  std::string msg;
  try {
    InferenceClient client(*ch, store, {std::move(creds), {}});
  } catch (const ProtocolError& e) {
    msg = e.what();
    EXPECT_EQ(e.reason(), ErrorReason::unauthenticated);
  }
  EXPECT_NE(msg.find("wrong token"), std::string::npos) << msg;
  service.stop();
  loop.join();
}

}  // namespace
