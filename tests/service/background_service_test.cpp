// A model served from a background thread (BackgroundService) and reached with
// connect_to_server: registration and a bit-exact inference over pinned TLS, the endpoint it
// reports, stop() idempotent; connect_to_server's refusals of missing, contradictory
// or insecure-remote trust.
#include <gtest/gtest.h>

#include <filesystem>

#include "expect_message.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/service/background_service.hpp"
#include "pinfer/transport/server_connection.hpp"
#include "protocol/test_models.hpp"
#include "transport/tls_test_util.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
using namespace pinfer::store;
using pinfer::test_support::message_of;

namespace {

class BackgroundServiceTest : public ::testing::Test {
 protected:
  fs::path dir_ = fs::temp_directory_path() / ("pinfer-background-" + new_precompute_id());
  nn::LoweredModel model_ = test_models::small_test_model(7);
  PrecomputeStore server_store_{dir_ / "server", {.capacity_bytes = 1ull << 32}};
  PrecomputeStore client_store_{dir_ / "client", {.capacity_bytes = 1ull << 32}};
  transport::PemCertificate cert_ = transport::make_certificate({});

  ~BackgroundServiceTest() override { fs::remove_all(dir_); }

  service::ServiceOptions tls_options() {
    service::ServiceOptions o;
    o.tls = transport::test::server_context(cert_);
    return o;
  }
};

TEST_F(BackgroundServiceTest, ServesRegistrationAndInferenceOverPinnedTls) {
  service::BackgroundService service(model_, ProtocolKind::client_garbler, server_store_,
                                     tls_options());
  ASSERT_NE(service.tls(), nullptr);
  EXPECT_EQ(service.endpoint(), "127.0.0.1:" + std::to_string(service.port()));
  const transport::ServerTrust pinned{.ca_file = "",
                                      .pin = transport::to_hex(service.tls()->fingerprint()),
                                      .insecure_plaintext_loopback = false};
  ClientCredentials credentials;
  {
    auto ch = transport::connect_to_server(service.endpoint(), {}, pinned);
    credentials = register_with_server(*ch);
  }
  EXPECT_TRUE(fs::exists(dir_ / "server" / "CLIENTS"));  // the registry lives in the store
  auto ch = transport::connect_to_server(service.endpoint(), {}, pinned);
  EXPECT_FALSE(ch->tls_cipher().empty());
  InferenceClient client(*ch, client_store_,
                         {std::move(credentials), ProtocolKind::client_garbler});
  const FloatTensor x = test_models::random_input(model_.input_shape, 3);
  const InferenceResult report = client.infer(x, true);
  EXPECT_EQ(report.logits_ring, nn::run_fixed_point(model_, nn::encode_input(model_, x)).values());
  client.close();
  ch.reset();
  service.stop();
  service.stop();  // idempotent
  EXPECT_GE(service.stats().sessions_completed, 2u);
}

TEST_F(BackgroundServiceTest, WrongPinIsRefused) {
  service::BackgroundService service(model_, ProtocolKind::server_garbler, server_store_,
                                     tls_options());
  const transport::ServerTrust wrong{
      .ca_file = "", .pin = std::string(64, '0'), .insecure_plaintext_loopback = false};
  EXPECT_THROW((void)transport::connect_to_server(service.endpoint(), {}, wrong), IoError);
}

TEST(ConnectToServer, RefusesMissingContradictoryOrRemoteInsecureTrust) {
  EXPECT_NE(message_of<InvalidArgument>([] {
              (void)transport::connect_to_server("127.0.0.1:9", {}, {});
            }).find("identity must be checked"),
            std::string::npos);
  EXPECT_NE(
      message_of<InvalidArgument>([] {
        (void)transport::connect_to_server(
            "127.0.0.1:9", {},
            {.ca_file = "", .pin = std::string(64, 'a'), .insecure_plaintext_loopback = true});
      }).find("choose one"),
      std::string::npos);
  EXPECT_NE(message_of<InvalidArgument>([] {
              (void)transport::connect_to_server(
                  "192.0.2.1:9", {},
                  {.ca_file = "", .pin = "", .insecure_plaintext_loopback = true});
            }).find("192.0.2.1"),
            std::string::npos);
  EXPECT_THROW((void)transport::connect_to_server(
                   "no-port", {}, {.ca_file = "", .pin = "", .insecure_plaintext_loopback = true}),
               InvalidArgument);
}

}  // namespace
