#pragma once
// What a protocol run cost, per phase, per component and per layer: seconds of compute on each
// side, bytes up and down, bytes stored. Written as JSON by `--report FILE.json` and printed as a
// table; the simulator's measured cost profiles are built from it.
//
// Components (cost_component.hpp) are keyed "<side>/<name>" once labelled: busy seconds of
// each side (thread CPU time, store I/O wall time), never time spent waiting for the peer, so
// the two sides' figures add up without double counting. Each side also reports cpu_total, all
// CPU time of its threads in the phase, which the busy components should nearly cover. The
// server sends its figures to the client at the end of each phase.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pinfer/core/channel.hpp"
#include "pinfer/core/cpu_time.hpp"
#include "pinfer/protocol/cost_component.hpp"

namespace pinfer::protocol {

struct LayerCost {
  std::string name;                       // stage or linear-op name
  std::string kind;                       // "linear" or "nonlinear"
  std::map<std::string, double> seconds;  // component -> seconds
  uint64_t upload_bytes = 0;
  uint64_t download_bytes = 0;
  // Garbled-circuit stages: how many chunks the stage was pipelined in (0: not a GC stage).
  uint32_t chunks = 0;
};

struct PhaseCost {
  double seconds = 0;           // wall time of the phase, as the client saw it
  uint64_t upload_bytes = 0;    // client -> server
  uint64_t download_bytes = 0;  // server -> client
  // "client/<component>" and "server/<component>" -> seconds (each side measures its own).
  std::map<std::string, double> components;
  std::vector<LayerCost> layers;
  // Bytes per protocol step ("offline/he", "offline/gc", "online/stage3", ...), client's view.
  std::map<std::string, TrafficCounters> transfers;
  // Offline: the garbled-circuit chunks of all stages, pipelined between the parties.
  uint32_t gc_chunks = 0;
  // Offline: the OT extension frames of those chunks' OTs (each chunk's OTs stream in frames
  // of ot::kCotChunkOts, which the parties pipeline; 0: not recorded).
  uint32_t ot_frames = 0;

  void add(Component component, double s) { components[std::string(to_string(component))] += s; }
  // Seconds of a labelled component; 0 when the phase has none.
  [[nodiscard]] double seconds_of(Side side, Component component) const;
  [[nodiscard]] bool has(Side side, Component component) const;
  // Renames every component and layer entry to "<side>/<name>" (done once per side).
  void label_side(Side side);
  // Merges another side's per-component and per-layer seconds (layers matched by position).
  void merge_seconds(const PhaseCost& other);
};

struct CostReport {
  std::string protocol;
  std::string model;
  std::string precompute_id;
  bool offline_on_demand = false;  // the online request found no precompute and ran offline first
  PhaseCost offline;
  PhaseCost online;
  uint64_t client_storage_bytes = 0;  // per precompute
  uint64_t server_storage_bytes = 0;  // per precompute
  std::size_t relus = 0;
  std::size_t he_keys = 0;  // HE keys the offline phase generated (docs/HE.md, "Key schedule")
  std::string gc_scheme;    // the server's garbling scheme ("half-gates", "three-halves")
  unsigned threads = 0;     // the client's threads for its garbled-circuit and OT work

  [[nodiscard]] nlohmann::json to_json() const;
  // A human-readable table of the phases, components and bytes.
  [[nodiscard]] std::string to_table() const;
};

[[nodiscard]] nlohmann::json to_json(const PhaseCost& phase);
// Parses a phase (as sent by the peer); throws FormatError on a malformed object.
[[nodiscard]] PhaseCost phase_from_json(const nlohmann::json& j);

// Adds the seconds its scope took to a component when it goes out of scope: thread CPU time
// for busy components, wall time for store I/O and waits (is_wall_clock); store I/O also adds
// its CPU time to Component::store_cpu.
class ScopedTimer {
 public:
  ScopedTimer(PhaseCost& phase, Component component, LayerCost* layer = nullptr)
      : phase_(phase),
        layer_(layer),
        component_(component),
        wall_(is_wall_clock(component)),
        start_wall_(std::chrono::steady_clock::now()),
        start_cpu_(thread_cpu_seconds()) {}
  ~ScopedTimer() {
    const double cpu = thread_cpu_seconds() - start_cpu_;
    const double s =
        wall_
            ? std::chrono::duration<double>(std::chrono::steady_clock::now() - start_wall_).count()
            : cpu;
    phase_.add(component_, s);
    if (component_ == Component::store_write || component_ == Component::store_read) {
      phase_.add(Component::store_cpu, cpu);  // inside the wall time: not transport CPU
    }
    if (layer_ != nullptr) layer_->seconds[std::string(to_string(component_))] += s;
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  PhaseCost& phase_;
  LayerCost* layer_;
  Component component_;
  bool wall_;
  std::chrono::steady_clock::time_point start_wall_;
  double start_cpu_;
};

}  // namespace pinfer::protocol
