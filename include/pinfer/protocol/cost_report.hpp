#pragma once
// What a protocol run cost, per phase, per component and per layer: seconds of compute on each
// side, bytes up and down, bytes stored. Written as JSON by `--report FILE.json` and printed as a
// table; the simulator's measured cost profiles are built from it.
//
// Component names (seconds), prefixed by the side that measured them ("client/", "server/"):
// he_keygen, he_encrypt, he_evaluate, he_decrypt, ot, garble, gc_transfer (waiting for and
// storing garbled tables), linear_shared, gc_input_labels / gc_input_flips / gc_flip_labels
// (online input encoding), gc_evaluate, output (decoding), and gc_wait_* (time blocked on the
// peer, not compute). The server sends its figures to the client at the end of each phase.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pinfer/core/channel.hpp"

namespace pinfer::protocol {

struct LayerCost {
  std::string name;                       // stage or linear-op name
  std::string kind;                       // "linear" or "nonlinear"
  std::map<std::string, double> seconds;  // component -> seconds
  uint64_t upload_bytes = 0;
  uint64_t download_bytes = 0;
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

  void add(const std::string& component, double s) { components[component] += s; }
  // Renames every component and layer entry to "<side>/<name>" (done once per side).
  void label_side(std::string_view side);
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
  std::vector<double> logits;
  std::vector<uint64_t> logits_ring;  // the logits as ring elements (scale 2f), for exact checks
  int prediction = -1;

  [[nodiscard]] nlohmann::json to_json() const;
  // A human-readable table of the phases, components and bytes.
  [[nodiscard]] std::string to_table() const;
};

[[nodiscard]] nlohmann::json to_json(const PhaseCost& phase);
// Parses a phase (as sent by the peer); throws FormatError on a malformed object.
[[nodiscard]] PhaseCost phase_from_json(const nlohmann::json& j);

// Adds elapsed seconds to a component when it goes out of scope.
class ScopedTimer {
 public:
  ScopedTimer(PhaseCost& phase, std::string component, LayerCost* layer = nullptr)
      : phase_(phase),
        layer_(layer),
        component_(std::move(component)),
        start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    phase_.add(component_, s);
    if (layer_ != nullptr) layer_->seconds[component_] += s;
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  PhaseCost& phase_;
  LayerCost* layer_;
  std::string component_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace pinfer::protocol
