// The server loop over TLS 1.3: registration and authenticated sessions bit-exact over
// loopback, a silent client dropped by the handshake timeout (its session slot freed), and
// busy refusals delivered over TLS.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "expect_message.hpp"
#include "net/tcp_test_util.hpp"
#include "net/tls_test_util.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/net/inference_service.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "protocol/test_models.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
using pinfer::test_support::message_of;

namespace {

class TlsService : public ::testing::Test {
 protected:
  fs::path dir_ = fs::temp_directory_path() / ("pinfer-tls-service-" + new_precompute_id());
  nn::LoweredModel model_ = test_models::small_test_model(31);
  PrecomputeStore server_store_{dir_ / "server", {.capacity_bytes = 1ull << 32}};
  ClientRegistry registry_{dir_ / "server" / "CLIENTS"};
  InferenceServer server_{model_, ProtocolKind::server_garbler, server_store_, registry_};
  net::PemCertificate cert_ = net::make_certificate({});
  std::shared_ptr<const net::TlsClientContext> pinned_ =
      net::TlsClientContext::pinned(net::certificate_fingerprint(cert_.cert_pem));

  ~TlsService() override { fs::remove_all(dir_); }

  net::ServiceOptions options(std::size_t max_sessions = 16, uint64_t handshake_ms = 10'000) {
    net::ServiceOptions o;
    o.max_sessions = max_sessions;
    o.tls = net::test::server_context(cert_);
    o.tcp.handshake_timeout_ms = handshake_ms;
    return o;
  }
  std::unique_ptr<net::TcpChannel> connect(uint16_t port) {
    return net::TcpChannel::connect(net::Endpoint{"127.0.0.1", port}, {}, pinned_);
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
  net::InferenceService service(server_, options());
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
  net::InferenceService service(server_, options(/*max_sessions=*/1, /*handshake_ms=*/300));
  std::thread loop([&] { service.run(); });
  {
    // Connects and says nothing: it holds the only slot until the handshake timeout.
    net::test::RawSocket silent(service.port());
    // The next client is refused while the slot is held, or served once it is free.
    EXPECT_TRUE(net::test::served_once_free(
        [&](int i) { return full_client(service.port(), "next" + std::to_string(i), 3); }));
  }
  service.stop();
  loop.join();
  EXPECT_EQ(service.stats().handshakes_failed, 1u);
}

TEST_F(TlsService, WrongTokenIsRefusedOverTls) {
  net::InferenceService service(server_, options());
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
