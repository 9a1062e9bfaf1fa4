#pragma once
// The simulated system: storage, links, thread counts, optimisation knobs and the model mode.
// Defaults are the published baseline (Garimella et al., ASPLOS 2023, artifact settings;
// docs/SIMULATOR.md): 16 GB client and 10,000 GB server storage, 500/500 Mbit/s, client 4 threads,
// server GC 32 threads, server HE 1 thread, 24 simulated hours, precompute poll every 1 s.
#include <cstdint>
#include <string>
#include <string_view>

#include "pinfer/sim/cost_profile.hpp"

namespace pinfer::sim {

// independent: phases never contend (the published model, reproduced exactly);
// contended: offline and online share the client CPU, the server CPU and both links
// (processor sharing, shared_resource.hpp).
enum class SimMode { independent, contended };
// poll: the published policy, every poll_interval_s check whether both stores have room for one
// more precompute and if so run one offline phase; eager: start the next offline phase as soon
// as there is room (no polling delay).
enum class PrecomputePolicy { poll, eager };
// How HE evaluation time at k threads is obtained: table = measured by-threads table when
// present (LPT makespan beyond it); lpt = LPT makespan of the per-layer times.
enum class HeModel { table, lpt };

struct SystemConfig {
  std::string protocol = "server-garbler";
  uint64_t client_storage_bytes = 16'000'000'000ULL;
  uint64_t server_storage_bytes = 10'000'000'000'000ULL;
  double uplink_mbps = 500.0;  // Mbit/s = 10^6 bit/s
  double downlink_mbps = 500.0;
  uint32_t client_threads = 4;
  uint32_t server_gc_threads = 32;
  uint32_t server_he_threads = 1;
  // Contended mode only: cores shared by all client (server) work; 0 = the largest thread
  // count that side uses (client_threads; max(server_gc_threads, server_he_threads)).
  uint32_t client_cores = 0;
  uint32_t server_cores = 0;
  HeModel he_model = HeModel::table;
  double he_speedup = 1.0;            // divides HE compute (category he)
  double gc_speedup = 1.0;            // divides GC compute (category gc)
  double bandwidth_speedup = 1.0;     // multiplies both link rates
  double client_device_factor = 1.0;  // multiplies every client compute step
  SimMode mode = SimMode::independent;
  PrecomputePolicy policy = PrecomputePolicy::poll;
  double poll_interval_s = 1.0;
  double sim_hours = 24.0;

  // Many clients per server (docs/SIMULATOR.md, "Many clients"). Each client has its own
  // device CPU (client_cores), store (client_storage_bytes), access links (uplink/downlink),
  // Poisson arrivals at the per-client rate, FIFO queue, online and precompute processes; they
  // share the server's CPU (server_cores), storage and network link.
  uint32_t clients = 1;
  // Server storage each client may fill; 0 = server_storage_bytes / clients. Quotas may
  // overcommit the total (clients * quota > server_storage_bytes): then both bind.
  uint64_t server_quota_per_client_bytes = 0;
  // The server's own link, shared by every client's transfers in that direction (contended
  // mode); 0 = unlimited (not modelled).
  double server_uplink_mbps = 0.0;
  double server_downlink_mbps = 0.0;
  // Contended mode: > 0 = every party's compute (all clients and the server) draws on one
  // processor-sharing pool of this many cores (clients and server on one machine);
  // client_cores and server_cores must then be 0.
  uint32_t shared_cores = 0;
  // Arrivals stop at the horizon and the run goes on until every arrived request has
  // completed (at most 10 x the horizon); figures are over all arrived requests.
  bool drain = false;
};

// Wireless slot allocation: one shared medium of total_mbps split into an uplink share
// (0 < share < 1) and the rest down. Throws InvalidArgument naming the bad value.
void apply_wireless_split(SystemConfig& config, double total_mbps, double uplink_share);

inline constexpr uint32_t kMaxClients = 1'000'000;

// Checks ranges (positive rates and threads, finite factors); InvalidArgument naming the field.
void validate(const SystemConfig& config);

[[nodiscard]] SimMode parse_mode(std::string_view text, std::string_view field);
[[nodiscard]] PrecomputePolicy parse_policy(std::string_view text, std::string_view field);
[[nodiscard]] HeModel parse_he_model(std::string_view text, std::string_view field);
[[nodiscard]] std::string_view to_string(SimMode m) noexcept;
[[nodiscard]] std::string_view to_string(PrecomputePolicy p) noexcept;
[[nodiscard]] std::string_view to_string(HeModel h) noexcept;

}  // namespace pinfer::sim
