// The server's limits, on the real `pinfer serve`: concurrent load (a short `pinfer bench load`
// run: every request served or cleanly refused busy, outputs bit-exact), the per-client
// storage quota, and timeouts that drop idle and trickling peers so they cannot hold a session.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include "pi_harness.hpp"

namespace pinfer::system_test {
namespace {

class ServerLimits : public ::testing::Test {
 protected:
  void SetUp() override { work_ = fresh_dir("limits"); }
  void TearDown() override {
    server_.reset();
    if (!HasFailure()) fs::remove_all(work_);
  }
  fs::path work_;
  std::unique_ptr<ServerProcess> server_;
};

// A raw TCP connection to the server that speaks no protocol (or only what the test sends).
class RawPeer {
 public:
  explicit RawPeer(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error("connect failed");
    }
  }
  ~RawPeer() { ::close(fd_); }
  bool send_bytes(const void* p, std::size_t n) {
    return ::send(fd_, p, n, MSG_NOSIGNAL) == static_cast<ssize_t>(n);
  }
  // True once the server closed the connection (EOF or reset), reading what it sent before.
  bool closed_by_server(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::poll(&p, 1, 20) == 1) {
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return true;
      }
    }
    return false;
  }

 private:
  int fd_ = -1;
};

uint16_t port_of(const std::string& endpoint) {
  return static_cast<uint16_t>(std::stoul(endpoint.substr(endpoint.rfind(':') + 1)));
}

TEST_F(ServerLimits, ShortLoadRunServesOrRefusesBusyAndEveryOutputIsExact) {
  // 8 clients against a server admitting 4 sessions: some attempts are refused "busy" and
  // retried; all 32 inferences must be served, none failed, every output bit-exact (checked by
  // the bench against the fixed-point engine), and the server's busy count must match.
  ChildProcess bench(
      {cli_path(), "bench", "load", "--clients", "8", "--requests", "32", "--max-sessions", "4",
       "--time-limit-s", "120", "--json", "--work", (work_ / "load").string()},
      {work_ / "load.out", work_ / "load.err"});
  const auto st = bench.wait_for(180s);
  ASSERT_TRUE(st.has_value()) << "bench load did not finish";
  ASSERT_EQ(*st, 0) << bench.stderr_text() << bench.stdout_text();
  const nlohmann::json j = nlohmann::json::parse(bench.stdout_text());
  EXPECT_EQ(j.at("served").get<double>(), 32);
  EXPECT_EQ(j.at("failed").get<double>(), 0);
  EXPECT_EQ(j.at("wrong_outputs").get<double>(), 0);
  EXPECT_GT(j.at("inferences_per_s").get<double>(), 0);
  EXPECT_GE(j.at("latency_p99_ms").get<double>(), j.at("latency_p50_ms").get<double>());
  EXPECT_GT(j.at("server_peak_rss_mb").get<double>(), 0);
  const std::string server = j.at("server").get<std::string>();
  // The server counts every refusal; clients saw each as a "busy" answer or, beyond the
  // server's refusals in flight, as a connection closed unanswered.
  const auto refused = static_cast<uint64_t>(j.at("refused_busy").get<double>() +
                                             j.at("dropped_unanswered").get<double>());
  EXPECT_NE(server.find(std::to_string(refused) + " refused (busy)"), std::string::npos)
      << server << " vs " << refused << " refusals seen by the clients";
  EXPECT_NE(server.find(" 0 failed"), std::string::npos) << server;
}

TEST_F(ServerLimits, PerClientQuotaRefusesCleanlyAndStoresNothing) {
  server_ = std::make_unique<ServerProcess>(work_, "client-garbler",
                                            std::vector<std::string>{"--client-quota", "1000"});
  const fs::path store = work_ / "client";
  ASSERT_EQ(run_client(work_, "register", "client", server_->endpoint(), store).status, 0);
  const ClientResult r = run_client(work_, "precompute", "precompute", server_->endpoint(), store);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("client quota exceeded"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("of 1000 bytes"), std::string::npos) << r.err;
  // The session went on after the refusal and the server keeps serving.
  const ClientResult again = run_client(work_, "again", "precompute", server_->endpoint(), store);
  EXPECT_NE(again.err.find("client quota exceeded"), std::string::npos) << again.err;
  EXPECT_EQ(server_->stop(), 0);
  EXPECT_TRUE(ready_entries(store).empty());
  EXPECT_TRUE(ready_entries(work_ / "server").empty());
  EXPECT_EQ(entries_in(store / "tmp"), 0u);
  EXPECT_EQ(entries_in(work_ / "server" / "tmp"), 0u);
}

TEST_F(ServerLimits, IdlePeerIsDroppedAndFreesItsSession) {
  server_ = std::make_unique<ServerProcess>(
      work_, "client-garbler",
      // The idle peer must still hold the session when the second client (a new process, slow
      // to start under the sanitizers) arrives, and be dropped well within the 3 s wait below.
      // No admission queue: the second client is refused busy.
      std::vector<std::string>{"--max-sessions", "1", "--timeout-ms", "1500", "--queue", "0"});
  const fs::path store = work_ / "client";
  ASSERT_EQ(run_client(work_, "register", "client", server_->endpoint(), store).status, 0);
  RawPeer idle(port_of(server_->endpoint()));
  std::this_thread::sleep_for(100ms);  // accepted: it holds the only session
  // Refused with a retry-after hint, which the client honours: it is served once the idle peer
  // was dropped.
  const ClientResult busy = run_client(work_, "busy", "precompute", server_->endpoint(), store);
  EXPECT_EQ(busy.status, 0) << busy.err;
  EXPECT_NE(busy.err.find("server busy"), std::string::npos) << busy.err;
  EXPECT_NE(busy.err.find("retrying in"), std::string::npos) << busy.err;
  EXPECT_TRUE(idle.closed_by_server(3s)) << "an idle peer kept its session";
  const ClientResult ok = run_client(work_, "ok", "precompute", server_->endpoint(), store);
  EXPECT_EQ(ok.status, 0) << ok.err;
}

TEST_F(ServerLimits, ClientBehindAnIdlePeerWaitsInTheQueueAndIsServed) {
  server_ = std::make_unique<ServerProcess>(
      work_, "client-garbler",
      std::vector<std::string>{"--max-sessions", "1", "--timeout-ms", "1500"});
  const fs::path store = work_ / "client";
  ASSERT_EQ(run_client(work_, "register", "client", server_->endpoint(), store).status, 0);
  RawPeer idle(port_of(server_->endpoint()));
  std::this_thread::sleep_for(100ms);  // accepted: it holds the only session
  const ClientResult queued = run_client(work_, "queued", "precompute", server_->endpoint(), store);
  EXPECT_EQ(queued.status, 0) << queued.err;
  EXPECT_NE(queued.err.find("waiting for a session: place 1 of 1"), std::string::npos)
      << queued.err;
  EXPECT_EQ(queued.err.find("server busy"), std::string::npos) << queued.err;
  EXPECT_TRUE(idle.closed_by_server(3s)) << "an idle peer kept its session";
  EXPECT_EQ(server_->stop(), 0);
}

TEST_F(ServerLimits, TricklingPeerIsDroppedWithinABoundedTime) {
  // A peer that keeps every single read under the timeout (one byte each 100 ms, timeout 400
  // ms) but never completes its hello must not hold the session for long.
  server_ = std::make_unique<ServerProcess>(
      work_, "client-garbler",
      std::vector<std::string>{"--max-sessions", "1", "--timeout-ms", "400"});
  RawPeer slow(port_of(server_->endpoint()));
  const uint32_t type = 0x100;  // hello
  const uint64_t length = 200;
  unsigned char header[12];
  std::memcpy(header, &type, 4);
  std::memcpy(header + 4, &length, 8);
  ASSERT_TRUE(slow.send_bytes(header, sizeof header));
  const auto start = std::chrono::steady_clock::now();
  bool dropped = false;
  for (int i = 0; i < 60 && !dropped; ++i) {
    const char byte = 'x';
    if (!slow.send_bytes(&byte, 1)) break;
    dropped = slow.closed_by_server(100ms);
  }
  dropped = dropped || slow.closed_by_server(100ms);
  const double held_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(dropped) << "a trickling peer held its session for " << held_s << " s";
  EXPECT_LT(held_s, 3.0);
}

}  // namespace
}  // namespace pinfer::system_test
