#pragma once
// Cost profiles: what one private inference costs, per network and protocol, as ordered steps.
//
// A profile holds, for each protocol ("server-garbler", "client-garbler"), the offline phase
// (one precompute) and the online phase (one inference), each an ordered list of steps. A step
// is either compute on one party (seconds at one thread plus how it scales with threads) or a
// transfer on one link (bytes, up = client to server, down = server to client). Per-layer
// breakdowns are kept where known (layer-parallel HE needs them). Storage per precompute is
// given for each side, plus the ReLU count of the network.
//
// Profiles come from the published measurements (paper_costs.hpp) or, later, from measuring
// pinfer itself (`pinfer characterize`): build a CostProfile and call save_cost_profile.
// The JSON schema is documented in docs/SIMULATOR.md; parsing checks every field and names
// the offending one in its FormatError.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pinfer::sim {

enum class Party { client, server };
enum class StepKind { compute, transfer };
enum class Direction { up, down };  // up: client -> server (uplink); down: server -> client
// How a compute step's time depends on its thread count k:
//   none: seconds (single-threaded); linear: seconds / k;
//   table: seconds_by_threads[k-1] (measured), beyond the table: layer-parallel makespan of
//          per_layer_seconds if given, else the last entry;
//   layer_parallel: makespan of per_layer_seconds on k threads (LPT list scheduling).
enum class Scaling { none, linear, table, layer_parallel };
// Which thread count of the system configuration applies to a scaling step.
enum class ThreadPool { none, client, server_gc, server_he };
// What a step is, so speed-up factors (HE, GC) can be applied per kind of work.
enum class Category { he, gc, ot, ss, other };

struct CostStep {
  std::string label;
  Party party = Party::client;
  StepKind kind = StepKind::compute;
  Category category = Category::other;
  std::optional<uint32_t> layer;  // index of the layer this step belongs to, if one

  // kind == compute
  double seconds = 0.0;  // at one thread
  Scaling scaling = Scaling::none;
  ThreadPool threads = ThreadPool::none;
  std::vector<double> seconds_by_threads;  // index k-1: seconds with k threads
  std::vector<double> per_layer_seconds;   // one-thread seconds of each layer

  // kind == transfer (the sender is `party`: client sends up, server sends down)
  double bytes = 0.0;
  Direction direction = Direction::up;
  std::vector<double> per_layer_bytes;

  // The step starts together with the previous one (pipelined work; consecutive such steps
  // form one group with the step before them); the phase goes on when every step of the group
  // has finished. The first step of a phase may not set it. JSON key "overlaps_previous",
  // written only when true.
  bool overlaps_previous = false;
  // The step belongs to the previous step's group but starts when that step ends: a chain
  // inside a group (one party's or one link's work that must wait for the previous step while
  // other members of the group run beside it). Steps of a group joined this way form lanes; the
  // group ends when its last lane does. Not allowed on the first step of a phase, nor together
  // with overlaps_previous. JSON key "follows_previous", written only when true.
  bool follows_previous = false;

  [[nodiscard]] static CostStep compute(std::string label, Party party, Category category,
                                        double seconds);
  [[nodiscard]] static CostStep transfer(std::string label, Party sender, double bytes);
};

struct ProtocolCosts {
  std::vector<CostStep> offline;      // one precompute
  std::vector<CostStep> online;       // one inference, given a precompute
  uint64_t client_storage_bytes = 0;  // per stored precompute
  uint64_t server_storage_bytes = 0;
};

struct ProfileSource {
  std::string kind;         // "published" or "measured"
  std::string method;       // e.g. "full run", "per-layer measurements summed"
  std::string description;  // citation, machine, date
};

struct CostProfile {
  std::string name;  // e.g. "paper:cifar10/resnet18"
  std::string dataset;
  std::string network;
  ProfileSource source;
  uint64_t relu_count = 0;
  std::map<std::string, ProtocolCosts, std::less<>> protocols;  // key: canonical protocol name

  // Throws InvalidArgument naming the protocol and the ones available.
  [[nodiscard]] const ProtocolCosts& protocol(std::string_view name) const;
};

// The canonical name ("server-garbler" / "client-garbler") of a protocol as core's
// parse_protocol_kind reads it (also '_' for '-'); InvalidArgument otherwise.
[[nodiscard]] std::string canonical_protocol_name(std::string_view name);

[[nodiscard]] std::string_view to_string(Party p) noexcept;
[[nodiscard]] std::string_view to_string(Scaling s) noexcept;
[[nodiscard]] std::string_view to_string(ThreadPool t) noexcept;
[[nodiscard]] std::string_view to_string(Category c) noexcept;

// Makespan of independent jobs on k identical threads by longest-processing-time-first list
// scheduling (Graham 1969: within 4/3 of optimal). Requires k >= 1.
[[nodiscard]] double lpt_makespan(std::vector<double> job_seconds, uint32_t threads);

inline constexpr int kCostProfileVersion = 1;

[[nodiscard]] nlohmann::json to_json(const CostProfile& profile);
// Validates everything (types, ranges, consistency); FormatError names the field path.
[[nodiscard]] CostProfile cost_profile_from_json(const nlohmann::json& j);
// IoError if unreadable; FormatError if malformed (message starts with the field path).
[[nodiscard]] CostProfile load_cost_profile(const std::string& file);
// Checks a profile built in code against the same rules as parsing; InvalidArgument naming
// the field (e.g. "protocols.server-garbler.offline[3].threads: required ...").
void validate(const CostProfile& profile);
// Validates, then writes the profile as indented JSON (creating parent directories).
// InvalidArgument if invalid; IoError on failure to write.
//
// How `pinfer characterize` writes a measured profile:
//   CostProfile p;  p.name = "measured:resnet18-cifar10";  p.relu_count = relus;
//   p.source = {"measured", "full run" | "per-layer measurements summed", "<machine, date>"};
//   ProtocolCosts& c = p.protocols["server-garbler"];
//   c.offline.push_back(CostStep::compute("server garbles all ReLUs", Party::server,
//                                         Category::gc, one_thread_seconds));
//   c.offline.back().scaling = Scaling::linear;  c.offline.back().threads = ThreadPool::server_gc;
//   c.offline.push_back(CostStep::transfer("download garbled circuits", Party::server, bytes));
//   ...; c.client_storage_bytes = ...; c.server_storage_bytes = ...;
//   save_cost_profile(p, "profiles/measured/resnet18.json");
void save_cost_profile(const CostProfile& profile, const std::string& file);

}  // namespace pinfer::sim
