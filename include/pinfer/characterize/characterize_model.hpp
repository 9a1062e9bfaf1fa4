#pragma once
// Characterizing a model on this machine: for each protocol, a server and a client in this
// process over loopback TCP (TLS 1.3 with an ephemeral certificate the client pins, unless
// insecure), one measured offline + online run checked bit for bit against the fixed-point
// engine (measure_once.hpp), and the simulator cost profile built from the runs. `pinfer
// characterize` and the Python module's pinfer.characterize both run it.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/characterize/measure_once.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/sim/cost_profile.hpp"

namespace pinfer::characterize {

struct CharacterizeOptions {
  std::vector<std::string> protocols = {"server-garbler", "client-garbler"};
  // Where the two precompute stores of each protocol go (<dir>/<protocol>-server, -client);
  // empty: a fresh temporary directory, removed afterwards.
  std::filesystem::path store_dir;
  uint64_t capacity_bytes = 200'000'000'000ULL;  // of each store
  bool insecure = false;                         // plain TCP between the two
  // The server's garbling scheme and threads (ServerOptions), and the client's threads (0:
  // all cores).
  protocol::ServerOptions server = {};
  unsigned client_threads = 0;
  protocol::ProgressFn progress = {};  // the client's progress (optional)
  // Status lines ("client-garbler: offline and online phase ...") and the server's session
  // errors (optional).
  std::function<void(std::string_view)> log = {};
};

struct CharacterizedProtocol {
  std::string name;  // canonical protocol name
  MeasuredRun measured;
};

struct Characterization {
  sim::CostProfile profile;  // "measured:<model>", one ProtocolCosts per protocol
  std::vector<CharacterizedProtocol> runs;
};

// Throws InvalidArgument for an unknown protocol or none, ProtocolError if a private result
// differs from the fixed-point engine, and the errors of the store, network and protocol.
[[nodiscard]] Characterization characterize_model(const nn::LoweredModel& model,
                                                  const CharacterizeOptions& options);

}  // namespace pinfer::characterize
