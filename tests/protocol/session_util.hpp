#pragma once
// Both roles of a private-inference session in one process: temporary stores and registry, and a
// server thread serving one in-memory connection while the test drives the client.
#include <exception>
#include <filesystem>
#include <string>
#include <thread>

#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/store/precompute_store.hpp"

namespace pinfer::test_session {

struct Stores {
  explicit Stores(const std::string& tag = "pinfer-pi-test")
      : dir(std::filesystem::temp_directory_path() / (tag + "-" + store::new_precompute_id())) {}
  ~Stores() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  store::PrecomputeStore client{dir / "client", {.capacity_bytes = uint64_t{1} << 32}};
  store::PrecomputeStore server{dir / "server", {.capacity_bytes = uint64_t{1} << 32}};
  protocol::ClientRegistry registry{dir / "server" / "CLIENTS"};
};

// Runs server_fn(Channel&) on a thread and client_fn(Channel&) on this one, over the two ends of
// an in-memory channel. The side that fails closes its end (waking the other); the client's
// error is rethrown first, then the server's.
template <typename S, typename C>
void run_two_parties(S server_fn, C client_fn) {
  auto [a, b] = make_memory_channel_pair();
  std::exception_ptr server_error;
  std::thread t([&, &sch = *b] {
    try {
      server_fn(sch);
    } catch (...) {
      server_error = std::current_exception();
      sch.close();
    }
  });
  try {
    client_fn(*a);
  } catch (...) {
    a->close();
    t.join();
    throw;
  }
  t.join();
  if (server_error) std::rethrow_exception(server_error);
}

// Runs `client_fn(InferenceClient&)` against a server thread serving one connection; rethrows
// the server's error after the client's.
template <typename F>
void with_session(protocol::InferenceServer& server, store::PrecomputeStore& client_store,
                  protocol::ClientOptions opts, F client_fn) {
  run_two_parties([&](Channel& ch) { server.serve_connection(ch); },
                  [&](Channel& ch) {
                    protocol::InferenceClient client(ch, client_store, std::move(opts));
                    client_fn(client);
                    client.close();
                  });
}

}  // namespace pinfer::test_session
