// The server loop over loopback TCP: many clients at once, a client that vanishes mid-phase,
// and load shedding with a clear "busy" answer.
#include "pinfer/service/inference_service.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/transport/tcp_channel.hpp"
#include "protocol/test_models.hpp"
#include "transport/tcp_test_util.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
using namespace pinfer::store;

namespace {

class InferenceServiceTest : public ::testing::TestWithParam<ProtocolKind> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pinfer-service-test-" + new_precompute_id());
    model_ = test_models::small_test_model(21);
    server_store_ = std::make_unique<PrecomputeStore>(dir_ / "server",
                                                      StoreLimits{.capacity_bytes = 1ull << 32});
    registry_ = std::make_unique<ClientRegistry>(dir_ / "server" / "CLIENTS");
    server_ = std::make_unique<InferenceServer>(model_, GetParam(), *server_store_, *registry_);
  }
  void TearDown() override {
    server_.reset();
    registry_.reset();
    server_store_.reset();
    fs::remove_all(dir_);
  }

  // The credentials of the client called `name` (registered on first use).
  ClientCredentials creds(const std::string& name) {
    std::lock_guard lock(clients_mu_);
    auto it = clients_.find(name);
    if (it == clients_.end()) it = clients_.emplace(name, registry_->register_client({})).first;
    return it->second.clone();
  }
  // The server-side store key of `name`: its authenticated id.
  std::string id_of(const std::string& name) { return creds(name).client_id; }

  // Runs one client session: precompute then infer; returns whether the logits were exact.
  bool client_session(uint16_t port, const std::string& id, uint64_t seed) {
    PrecomputeStore store(dir_ / ("client-" + id), {.capacity_bytes = 1ull << 32});
    auto ch = transport::TcpChannel::connect_plaintext_loopback("127.0.0.1", port);
    InferenceClient client(*ch, store, {creds(id), GetParam()});
    (void)client.precompute();
    const FloatTensor x = test_models::random_input(model_.input_shape, seed);
    const InferenceResult rep = client.infer(x, false);
    client.close();
    return rep.logits_ring == nn::run_fixed_point(model_, nn::encode_input(model_, x)).values();
  }

  fs::path dir_;
  nn::LoweredModel model_;
  std::unique_ptr<PrecomputeStore> server_store_;
  std::unique_ptr<ClientRegistry> registry_;
  std::unique_ptr<InferenceServer> server_;
  std::mutex clients_mu_;
  std::map<std::string, ClientCredentials> clients_;
};

// Secure by default: no TLS context and no named plaintext option is refused, and the named
// option only serves loopback.
TEST_P(InferenceServiceTest, PlaintextOnlyWhenAskedByNameAndOnlyOnLoopback) {
  try {
    service::InferenceService service(*server_, {});
    ADD_FAILURE() << "a service without TLS started";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.reason(), ErrorReason::plaintext_refused) << e.what();
  }
  try {
    service::InferenceService service(*server_,
                                      {.host = "0.0.0.0", .insecure_plaintext_loopback = true});
    ADD_FAILURE() << "a plaintext service on 0.0.0.0 started";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.reason(), ErrorReason::plaintext_refused) << e.what();
  }
}

TEST_P(InferenceServiceTest, ServesConcurrentClientsBitExact) {
  service::InferenceService service(*server_, {.insecure_plaintext_loopback = true});
  std::thread loop([&] { service.run(); });
  constexpr int kClients = 4;
  std::vector<std::thread> clients;
  std::atomic<int> exact{0};
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      try {
        if (client_session(service.port(), "client" + std::to_string(i), i)) ++exact;
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : clients) t.join();
  service.stop();
  loop.join();
  EXPECT_EQ(exact.load(), kClients);
  EXPECT_EQ(service.stats().sessions_completed, static_cast<uint64_t>(kClients));
  EXPECT_EQ(server_store_->used_bytes(), 0u);
}

TEST_P(InferenceServiceTest, ClientVanishingMidOfflineLeavesServerServingAndStoreConsistent) {
  service::InferenceService service(*server_, {.insecure_plaintext_loopback = true});
  std::thread loop([&] { service.run(); });
  {
    // A client that starts an offline phase and disappears after the HE public key.
    PrecomputeStore store(dir_ / "quitter", {.capacity_bytes = 1ull << 32});
    auto ch = transport::TcpChannel::connect_plaintext_loopback("127.0.0.1", service.port());
    std::thread killer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      ch->close();
    });
    try {
      InferenceClient client(*ch, store, {creds("quitter"), GetParam()});
      for (;;) (void)client.precompute();
    } catch (const Error&) {
      // expected: the connection was cut under the client
    }
    killer.join();
  }
  EXPECT_TRUE(client_session(service.port(), "stayer", 3));
  service.stop();
  loop.join();
  EXPECT_GE(service.stats().sessions_completed, 1u);
  EXPECT_EQ(server_store_->used_bytes(id_of("stayer")), 0u);
  for (const std::string& id : server_store_->list(id_of("quitter"))) {
    EXPECT_NO_THROW((void)server_store_->take(id_of("quitter"), id));  // whole, usable entries only
  }
  // A reservation leaked by the aborted offline phase would still count here.
  EXPECT_EQ(server_store_->used_bytes(id_of("quitter")), 0u);
  // Nothing half-written remains for the client that vanished (the store is locked while
  // open, so close it before reopening).
  server_.reset();
  server_store_.reset();
  PrecomputeStore reopened(dir_ / "server", {.capacity_bytes = 1ull << 32});
  EXPECT_EQ(reopened.recovery().removed_incomplete, 0u);
}

TEST_P(InferenceServiceTest, ClientVanishingMidOnlineNeverLeavesAReusablePrecompute) {
  service::InferenceService service(*server_, {.insecure_plaintext_loopback = true});
  std::thread loop([&] { service.run(); });
  std::string id;
  {
    PrecomputeStore store(dir_ / "cut", {.capacity_bytes = 1ull << 32});
    auto ch = transport::TcpChannel::connect_plaintext_loopback("127.0.0.1", service.port());
    InferenceClient client(*ch, store, {creds("cut"), GetParam()});
    id = client.precompute().precompute_id;
    // Cut the connection as soon as the online phase has taken the precompute.
    std::atomic<bool> done{false};
    std::thread cutter([&] {
      while (!done.load() && !store.list("cut").empty()) {
        std::this_thread::yield();
      }
      ch->close();
    });
    try {
      (void)client.infer(test_models::random_input(model_.input_shape, 1), false);
    } catch (const Error&) {
      // expected when the cut lands inside the online phase
    }
    done = true;
    cutter.join();
    EXPECT_EQ(store.count("cut"), 0u);
  }
  // The same client comes back: whatever the server still held of the cut precompute is
  // discarded at the handshake (its client half is gone), and inference works.
  {
    PrecomputeStore store(dir_ / "cut", {.capacity_bytes = 1ull << 32});
    auto ch = transport::TcpChannel::connect_plaintext_loopback("127.0.0.1", service.port());
    InferenceClient client(*ch, store, {creds("cut"), GetParam()});
    const FloatTensor x = test_models::random_input(model_.input_shape, 4);
    EXPECT_EQ(client.infer(x).logits_ring,
              nn::run_fixed_point(model_, nn::encode_input(model_, x)).values());
    client.close();
  }
  service.stop();
  loop.join();
  EXPECT_THROW((void)server_store_->take(id_of("cut"), id), StoreError);
  EXPECT_EQ(server_store_->used_bytes(id_of("cut")), 0u);
}

// Without an admission queue, a client beyond max_sessions is refused at once (with a queue, only
// a full queue refuses: tests/service/admission_service_test.cpp).
TEST_P(InferenceServiceTest, ShedsLoadWithABusyAnswer) {
  service::InferenceService service(
      *server_, {.max_sessions = 1, .insecure_plaintext_loopback = true, .max_queued = 0});
  std::thread loop([&] { service.run(); });
  auto first = transport::TcpChannel::connect_plaintext_loopback("127.0.0.1", service.port());
  PrecomputeStore store(dir_ / "holder", {.capacity_bytes = 1ull << 32});
  InferenceClient holder(*first, store,
                         {creds("holder"), GetParam()});  // occupies the only session
  auto second = transport::TcpChannel::connect_plaintext_loopback("127.0.0.1", service.port());
  PrecomputeStore store2(dir_ / "late", {.capacity_bytes = 1ull << 32});
  try {
    InferenceClient late(*second, store2, {creds("late"), GetParam()});
    FAIL() << "expected a busy answer";
  } catch (const ServerBusyError& e) {
    EXPECT_EQ(e.reason(), ErrorReason::server_busy) << e.what();
    EXPECT_NE(std::string(e.what()).find("busy"), std::string::npos) << e.what();
    EXPECT_GE(e.retry_after_ms(), 10u);  // the hint from the assumed session time
  }
  holder.close();
  service.stop();
  loop.join();
  EXPECT_EQ(service.stats().sessions_refused_busy, 1u);
}

TEST_P(InferenceServiceTest, SilentClientLosesItsSlotAfterTheFirstFrameTimeout) {
  service::InferenceService service(
      *server_,
      {.max_sessions = 1, .insecure_plaintext_loopback = true, .first_frame_timeout_ms = 200});
  std::thread loop([&] { service.run(); });
  {
    transport::test::RawSocket silent(service.port());  // plain TCP, never says anything
    // Busy while the silent client holds the only slot; served once it was dropped.
    EXPECT_TRUE(transport::test::served_once_free(
        [&](int i) { return client_session(service.port(), "patient" + std::to_string(i), 5); }));
  }
  service.stop();
  loop.join();
  EXPECT_EQ(service.stats().silent_clients, 1u);
}

TEST_P(InferenceServiceTest, WrongInputShapeIsAClearError) {
  service::InferenceService service(*server_, {.insecure_plaintext_loopback = true});
  std::thread loop([&] { service.run(); });
  {
    PrecomputeStore store(dir_ / "shape", {.capacity_bytes = 1ull << 32});
    auto ch = transport::TcpChannel::connect_plaintext_loopback("127.0.0.1", service.port());
    InferenceClient client(*ch, store, {creds("shape"), GetParam()});
    EXPECT_THROW((void)client.infer(FloatTensor(Shape{1, 3, 5, 5})), InvalidArgument);
    client.close();
  }
  service.stop();
  loop.join();
}

INSTANTIATE_TEST_SUITE_P(Protocols, InferenceServiceTest,
                         ::testing::Values(ProtocolKind::server_garbler,
                                           ProtocolKind::client_garbler),
                         test_models::ProtocolName());

}  // namespace
