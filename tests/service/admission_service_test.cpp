// Bounded admission in the server loop over loopback TCP (issue 17): beyond max_sessions a
// connection waits in a FIFO queue and is told its place, is admitted in order as sessions end,
// and gets bit-exact results; a full queue is refused with a retry-after hint; a connection that
// waits too long is refused with ErrorReason::queue_timeout; a client that leaves while waiting
// frees its place. Waits in the tests are bounded polls (a lost wake-up fails, never hangs);
// nothing asserts wall time.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/admission.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/service/inference_service.hpp"
#include "pinfer/transport/tcp_channel.hpp"
#include "protocol/test_models.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
using namespace pinfer::store;
using namespace std::chrono_literals;

namespace {

// Polls `done` every 10 ms for at most 20 s.
bool eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

class Admission : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pinfer-admission-test-" + new_precompute_id());
    use_model(test_models::small_test_model(31));
  }
  void TearDown() override {
    server_.reset();
    registry_.reset();
    server_store_.reset();
    fs::remove_all(dir_);
  }
  void use_model(nn::LoweredModel model) {
    server_.reset();  // then the registry and the store, whose lock a new one would meet
    registry_.reset();
    server_store_.reset();
    model_ = std::move(model);
    server_store_ = std::make_unique<PrecomputeStore>(dir_ / "server",
                                                      StoreLimits{.capacity_bytes = 1ull << 34});
    registry_ = std::make_unique<ClientRegistry>(dir_ / "server" / "CLIENTS");
    server_ = std::make_unique<InferenceServer>(model_, ProtocolKind::client_garbler,
                                                *server_store_, *registry_);
  }

  // A connected client with its own store; the session starts (or waits) in its constructor.
  struct Client {
    std::unique_ptr<PrecomputeStore> store;
    std::unique_ptr<transport::TcpChannel> channel;
    std::unique_ptr<InferenceClient> client;
  };
  Client connect(uint16_t port, const std::string& name, AdmissionOptions admission = {}) {
    Client c;
    c.store = std::make_unique<PrecomputeStore>(dir_ / ("client-" + name),
                                                StoreLimits{.capacity_bytes = 1ull << 34});
    c.channel = transport::TcpChannel::connect_plaintext_loopback("127.0.0.1", port);
    ClientOptions options{registry_->register_client({}), ProtocolKind::client_garbler};
    options.admission = std::move(admission);
    c.client = std::make_unique<InferenceClient>(*c.channel, *c.store, std::move(options));
    return c;
  }
  // One inference (offline phase on demand); whether it is bit-exact.
  bool infer_exactly(InferenceClient& client, const FloatTensor& x) {
    const InferenceResult r = client.infer(x);
    client.close();
    return r.logits_ring == nn::run_fixed_point(model_, nn::encode_input(model_, x)).values();
  }

  fs::path dir_;
  nn::LoweredModel model_;
  std::unique_ptr<PrecomputeStore> server_store_;
  std::unique_ptr<ClientRegistry> registry_;
  std::unique_ptr<InferenceServer> server_;
};

service::ServiceOptions one_session(std::size_t queue = 8) {
  service::ServiceOptions so;
  so.max_sessions = 1;
  so.insecure_plaintext_loopback = true;
  so.max_queued = queue;
  so.queue_place_interval_ms = 100;
  return so;
}

TEST_F(Admission, QueuedClientsAreToldTheirPlaceAndAdmittedInOrder) {
  service::InferenceService service(*server_, one_session());
  std::thread loop([&] { service.run(); });
  Client holder = connect(service.port(), "holder");  // holds the only session
  std::mutex mu;
  std::vector<std::string> admitted;
  std::vector<std::vector<uint32_t>> places(2);
  std::vector<int> exact(2, -1);
  std::vector<std::thread> waiters;
  for (int i = 0; i < 2; ++i) {
    waiters.emplace_back([&, i] {
      AdmissionOptions admission;
      admission.on_place = [&, i](const QueuePlace& p) {
        std::lock_guard lock(mu);
        places[i].push_back(p.position);
        if (p.position == 0) admitted.push_back("client" + std::to_string(i));
      };
      Client c = connect(service.port(), "waiter" + std::to_string(i), admission);
      exact[i] = infer_exactly(*c.client, test_models::random_input(model_.input_shape, i)) ? 1 : 0;
    });
    // The next client comes only once this one was told its place: the order is known.
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(mu);
      return !places[i].empty();
    }));
  }
  holder.client->close();
  for (auto& t : waiters) t.join();
  service.stop();
  loop.join();
  EXPECT_EQ(admitted, (std::vector<std::string>{"client0", "client1"}));
  ASSERT_FALSE(places[0].empty());
  ASSERT_FALSE(places[1].empty());
  EXPECT_EQ(places[0].front(), 1u);
  EXPECT_EQ(places[0].back(), 0u);
  EXPECT_EQ(places[1].front(), 2u);  // behind client 0, then moved up, then admitted
  EXPECT_NE(std::find(places[1].begin(), places[1].end(), 1u), places[1].end());
  EXPECT_EQ(places[1].back(), 0u);
  EXPECT_EQ(exact, (std::vector<int>{1, 1}));
  const service::ServiceStats st = service.stats();
  EXPECT_EQ(st.sessions_queued, 2u);
  EXPECT_EQ(st.sessions_refused_busy, 0u);
  EXPECT_EQ(st.sessions_completed, 3u);
  EXPECT_EQ(st.waiting, 0u);
}

TEST_F(Admission, FullQueueIsRefusedWithARetryAfterHint) {
  service::InferenceService service(*server_, one_session(/*queue=*/1));
  std::thread loop([&] { service.run(); });
  Client holder = connect(service.port(), "holder");
  int waiter_exact = -1;
  std::thread waiter([&] {
    Client c = connect(service.port(), "waiter");
    waiter_exact = infer_exactly(*c.client, test_models::random_input(model_.input_shape, 7));
  });
  ASSERT_TRUE(eventually([&] { return service.stats().waiting == 1; }));
  try {
    (void)connect(service.port(), "refused");
    ADD_FAILURE() << "a client beyond a full queue was not refused";
  } catch (const ServerBusyError& e) {
    EXPECT_EQ(e.reason(), ErrorReason::server_busy);
    EXPECT_GE(e.retry_after_ms(), 10u);
    EXPECT_LE(e.retry_after_ms(), 60'000u);
  }
  holder.client->close();
  waiter.join();
  service.stop();
  loop.join();
  EXPECT_EQ(waiter_exact, 1);  // the queued one is served after the refusal
  EXPECT_EQ(service.stats().sessions_refused_busy, 1u);
}

TEST_F(Admission, WaitingBeyondTheQueueTimeoutIsRefusedWithItsReason) {
  service::ServiceOptions so = one_session();
  so.queue_timeout_ms = 300;
  service::InferenceService service(*server_, so);
  std::thread loop([&] { service.run(); });
  Client holder = connect(service.port(), "holder");
  try {
    (void)connect(service.port(), "patient");
    ADD_FAILURE() << "no queue timeout";
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.reason(), ErrorReason::queue_timeout) << e.what();
  }
  EXPECT_TRUE(eventually([&] { return service.stats().waiting == 0; }));
  holder.client->close();
  service.stop();
  loop.join();
  EXPECT_EQ(service.stats().queue_timeouts, 1u);
  EXPECT_EQ(service.stats().sessions_failed, 0u);
}

TEST_F(Admission, ClientThatLeavesTheQueueFreesItsPlace) {
  service::InferenceService service(*server_, one_session(/*queue=*/1));
  std::thread loop([&] { service.run(); });
  Client holder = connect(service.port(), "holder");
  struct Leaving {};
  std::thread leaver([&] {
    AdmissionOptions admission;
    admission.on_place = [](const QueuePlace&) { throw Leaving{}; };  // hangs up when queued
    EXPECT_THROW((void)connect(service.port(), "leaver", admission), Leaving);
  });
  leaver.join();
  ASSERT_TRUE(eventually([&] {
    const service::ServiceStats st = service.stats();
    return st.waiting == 0 && st.left_queue == 1;
  }));
  // The freed place takes the next client, which is served once the holder ends.
  int next_exact = -1;
  std::thread next([&] {
    Client c = connect(service.port(), "next");
    next_exact = infer_exactly(*c.client, test_models::random_input(model_.input_shape, 9));
  });
  ASSERT_TRUE(eventually([&] { return service.stats().waiting == 1; }));
  holder.client->close();
  next.join();
  service.stop();
  loop.join();
  EXPECT_EQ(next_exact, 1);
  EXPECT_EQ(service.stats().sessions_refused_busy, 0u);
}

// The digits model with one session and several concurrent clients: every result bit-exact,
// none refused while the queue has room.
TEST_F(Admission, DigitsModelServesConcurrentClientsThroughTheQueueBitExact) {
  const std::string models = std::string(PINFER_SOURCE_DIR) + "/models/";
  use_model(nn::load_model(models + "digits.onnx").lowered);
  const std::vector<FloatTensor> images =
      nn::split_batch(nn::read_npy_float(models + "digits_test_images.npy"));
  ASSERT_GE(images.size(), 4u);
  service::InferenceService service(*server_, one_session());
  std::thread loop([&] { service.run(); });
  Client holder = connect(service.port(), "holder");
  constexpr int kClients = 4;
  std::vector<int> exact(kClients, -1);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      Client c = connect(service.port(), "digits" + std::to_string(i));
      exact[i] = infer_exactly(*c.client, images[static_cast<std::size_t>(i) * 7]) ? 1 : 0;
    });
  }
  // All of them wait before the holder ends: the queue really was used.
  ASSERT_TRUE(
      eventually([&] { return service.stats().waiting == static_cast<uint64_t>(kClients); }));
  EXPECT_EQ(holder.client->admission().places_received, 0u);  // it was admitted at once
  holder.client->close();
  for (auto& t : clients) t.join();
  service.stop();
  loop.join();
  EXPECT_EQ(exact, std::vector<int>(kClients, 1));
  const service::ServiceStats st = service.stats();
  EXPECT_EQ(st.sessions_refused_busy, 0u);
  EXPECT_EQ(st.sessions_queued, static_cast<uint64_t>(kClients));
  EXPECT_EQ(st.sessions_completed, kClients + 1u);
  EXPECT_EQ(st.sessions_failed, 0u);
}

}  // namespace
