#pragma once
// A real arrival-driven load run (`pinfer bench arrivals`): K clients, each with its own store,
// its own links (the connect function shapes them) and Poisson requests at a rate, against one
// server, for a bounded time. It mirrors the simulator's model (sim/pi_model.hpp) so the two can
// be compared request for request:
//   - each client's arrivals are sim::poisson_arrival_times(rate, seed, client, duration), the
//     sequence the simulator uses for that client and seed;
//   - an online thread serves the client's requests one at a time in arrival order, taking a
//     stored precompute (waiting for one when none is stored);
//   - a precompute thread follows the policy: `poll` wakes every poll_interval_s and runs one
//     offline phase when both stores have room, `eager` starts the next as soon as there is room;
//     when a store is full it sleeps until the online thread consumes a precompute;
//   - arrivals stop at duration_s; requests already arrived are all served (the simulator's
//     `drain`), then the precompute threads stop.
// Every result is checked against the fixed-point engine (bit-exact), computed before the run.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pinfer/core/channel.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/protocol_kind.hpp"
#include "pinfer/sim/system_config.hpp"
#include "pinfer/store/precompute_store.hpp"

namespace pinfer::characterize {

struct ArrivalSettings {
  protocol::ProtocolKind protocol = protocol::ProtocolKind::client_garbler;
  double rate_per_client = 0.1;  // requests/s
  double duration_s = 60;        // arrivals in [0, duration_s)
  uint64_t seed = 1;
  sim::PrecomputePolicy policy = sim::PrecomputePolicy::poll;
  double poll_interval_s = 1.0;
  unsigned threads = 0;  // each client's (0: all cores)
  // A run never outlives this (arrivals, then draining); a request not served by then is
  // reported as unserved. 0: 10 x duration_s.
  double deadline_s = 0;
};

// What one client needs: a way to open a connection to the server (shaped as its links are),
// its identity there and its own precompute store.
struct ArrivalClient {
  std::function<std::unique_ptr<Channel>()> connect;
  protocol::ClientCredentials credentials;
  store::PrecomputeStore* store = nullptr;
};

// One request, times in seconds from the start of the run.
struct MeasuredRequest {
  uint32_t client = 0;
  double arrival_s = 0;
  double start_s = 0;         // the client's online thread took it up
  double offline_wait_s = 0;  // waiting for a precompute (offline work on the critical path)
  double end_s = 0;           // result received
  bool bit_exact = false;
  // From the online phase's cost report: its wall time as the client timed it, and its bytes.
  double online_phase_s = 0;
  uint64_t online_upload_bytes = 0;
  uint64_t online_download_bytes = 0;
  // Busy seconds per component of both sides in the online phase (as offline_phase_components).
  std::map<std::string, double> online_components;
};

struct ArrivalRunResult {
  std::vector<MeasuredRequest> requests;  // served, in order of completion
  uint64_t arrivals = 0;
  uint64_t unserved = 0;  // arrived but not served by the deadline
  uint64_t precomputes_made = 0;
  uint64_t precompute_refusals = 0;     // checks that found no room (either store)
  std::vector<double> offline_phase_s;  // wall time of each stored offline phase
  // Busy seconds per component ("client/store_write", "server/gc_garble", ...) of each stored
  // offline phase, in the order of offline_phase_s: what a loaded phase spent where, to set
  // beside the unloaded profile's steps.
  std::vector<std::map<std::string, double>> offline_phase_components;
  double wall_s = 0;  // the whole run, draining included
};

// Runs the load. Throws InvalidArgument for bad settings, and rethrows the first error a
// client thread met (after stopping the others).
[[nodiscard]] ArrivalRunResult run_arrivals(const nn::LoweredModel& model,
                                            std::vector<ArrivalClient>& clients,
                                            const ArrivalSettings& settings);

}  // namespace pinfer::characterize
