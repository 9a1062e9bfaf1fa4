#include "pinfer/characterize/measured_profile.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::characterize {
namespace {

using protocol::Component;
using protocol::PhaseCost;
using protocol::Side;
using sim::Category;
using sim::CostStep;
using sim::Party;

Party party_of(Side side) {
  return side == Side::client ? Party::client : Party::server;
}

// Reads the components of one phase, refusing a missing one the protocol always produces.
class PhaseReader {
 public:
  PhaseReader(const PhaseCost& phase, std::string phase_name)
      : phase_(phase), name_(std::move(phase_name)) {}

  [[nodiscard]] double require(Side side, Component c) const {
    if (!phase_.has(side, c)) {
      throw FormatError(name_ + " cost report lacks component " + component_key(side, c));
    }
    return std::max(0.0, phase_.seconds_of(side, c));
  }
  [[nodiscard]] double optional(Side side, Component c) const {
    return std::max(0.0, phase_.seconds_of(side, c));
  }
  // A layer's seconds of a component (0 when the layer has none).
  [[nodiscard]] double layer(std::size_t index, Side side, Component c) const {
    if (index >= phase_.layers.size()) return 0.0;
    const auto& seconds = phase_.layers[index].seconds;
    const auto it = seconds.find(component_key(side, c));
    return it == seconds.end() ? 0.0 : std::max(0.0, it->second);
  }
  // Chunks a garbled-circuit stage was pipelined in (at least 1).
  [[nodiscard]] std::size_t chunks(std::size_t index) const {
    return index < phase_.layers.size() ? std::max<uint32_t>(1, phase_.layers[index].chunks) : 1;
  }
  // Bytes {up, down} of the transfer step `name`, or of every step under `name` when it ends in
  // '/' ("online/"). Exact otherwise: "online/stage1" must not take in "online/stage10".
  [[nodiscard]] std::pair<double, double> bytes(const std::string& name) const {
    double up = 0, down = 0;
    for (const auto& [step, t] : phase_.transfers) {
      if (step == name || (name.ends_with('/') && step.starts_with(name))) {
        up += static_cast<double>(t.bytes_sent);
        down += static_cast<double>(t.bytes_received);
      }
    }
    return {up, down};
  }
  // CPU of a side outside its named components and its store I/O; fills `coverage`.
  [[nodiscard]] double uncovered_cpu(Side side, CpuCoverage& coverage) const {
    coverage.cpu_total_s = require(side, Component::cpu_total);
    coverage.component_cpu_s = 0;
    for (Component c : protocol::kAllComponents) {
      if (protocol::is_step(c) && !protocol::is_wall_clock(c)) {
        coverage.component_cpu_s += optional(side, c);
      }
    }
    // CPU inside store I/O is part of the store steps' wall time already.
    coverage.component_cpu_s += optional(side, Component::store_cpu);
    return std::max(0.0, coverage.cpu_total_s - coverage.component_cpu_s);
  }

 private:
  const PhaseCost& phase_;
  std::string name_;
};

// Appends steps that run together: every step after the first overlaps the previous one. Steps
// with nothing to do are left out; a group that ends up empty adds nothing.
void add_group(std::vector<CostStep>& steps, std::vector<CostStep> group) {
  bool first = true;
  for (CostStep& s : group) {
    const bool empty = s.kind == sim::StepKind::compute ? !(s.seconds > 0) : !(s.bytes > 0);
    if (empty) continue;
    s.overlaps_previous = !first;
    first = false;
    steps.push_back(std::move(s));
  }
}

void scale(CostStep& s, double k) {
  s.seconds *= k;
  s.bytes *= k;
  for (double& v : s.per_layer_seconds) v *= k;
  for (double& v : s.per_layer_bytes) v *= k;
}

bool is_empty(const CostStep& s) {
  return s.kind == sim::StepKind::compute ? !(s.seconds > 0) : !(s.bytes > 0);
}

// Appends one group of lanes: the lanes start together; within a lane each step starts when the
// previous one ends (CostStep::follows_previous). Empty steps are left out.
void add_lanes(std::vector<CostStep>& steps, std::vector<std::vector<CostStep>> lanes) {
  bool first_of_group = true;
  for (std::vector<CostStep>& lane : lanes) {
    bool first_of_lane = true;
    for (CostStep& s : lane) {
      if (is_empty(s)) continue;
      s.overlaps_previous = first_of_lane && !first_of_group;
      s.follows_previous = !first_of_lane;
      first_of_lane = first_of_group = false;
      steps.push_back(std::move(s));
    }
  }
}

std::vector<std::vector<CostStep>> one_step_lanes(std::vector<CostStep> group) {
  std::vector<std::vector<CostStep>> lanes;
  for (CostStep& s : group) lanes.push_back({std::move(s)});
  return lanes;
}

// Work pipelined in `chunks` equal chunks through the lanes of a group (a lane: one party's or
// one link's work on a chunk, possibly a chain of steps): the first chunk passes every lane one
// after the other, then the other chunks overlap with the slowest lane setting the pace, so the
// phase takes sum(T_i) / n + max(T_i) (n - 1) / n, the makespan of a synchronous pipeline. One
// chunk: the lanes run one after the other. `riders` (the transport CPU: TLS, framing, copies)
// run while the bytes they carry are on the link: in the first chunk beside its first transfer,
// in the rest as lanes of their own.
void add_pipeline(std::vector<CostStep>& steps, std::vector<std::vector<CostStep>> lanes,
                  std::size_t chunks, std::vector<CostStep> riders = {}) {
  const double first = 1.0 / static_cast<double>(std::max<std::size_t>(1, chunks));
  const auto head_of = [&](const CostStep& s) {
    CostStep head = s;
    scale(head, first);
    if (chunks > 1) head.label += " (first chunk)";
    return head;
  };
  bool riders_placed = false;
  for (const std::vector<CostStep>& lane : lanes) {
    for (const CostStep& s : lane) {
      std::vector<CostStep> group{head_of(s)};
      if (!riders_placed && s.kind == sim::StepKind::transfer && !is_empty(s)) {
        for (const CostStep& r : riders) group.push_back(head_of(r));
        riders_placed = true;
      }
      add_group(steps, std::move(group));
    }
  }
  if (!riders_placed) {
    for (const CostStep& r : riders) add_group(steps, {head_of(r)});
  }
  if (chunks <= 1) return;
  for (CostStep& r : riders) lanes.push_back({std::move(r)});
  for (std::vector<CostStep>& lane : lanes) {
    for (CostStep& s : lane) scale(s, 1.0 - first);
  }
  add_lanes(steps, std::move(lanes));
}

CostStep compute(std::string label, Side side, Category category, double seconds) {
  return CostStep::compute(std::move(label), party_of(side), category, seconds);
}

// Transfers of a group: one step per direction that carried bytes.
void add_transfers(std::vector<CostStep>& group, const std::string& label,
                   std::pair<double, double> bytes) {
  group.push_back(CostStep::transfer(label + " (up)", Party::client, bytes.first));
  group.push_back(CostStep::transfer(label + " (down)", Party::server, bytes.second));
}

// The uncovered CPU of both sides, spread over a phase's groups by the bytes each group moves.
struct Transport {
  double client_s = 0, server_s = 0, phase_bytes = 0;

  void add_share(std::vector<CostStep>& group, double group_bytes) const {
    if (!(phase_bytes > 0)) return;
    const double share = group_bytes / phase_bytes;
    group.push_back(compute("client transport (framing, TLS, copies)", Side::client,
                            Category::other, client_s * share));
    group.push_back(compute("server transport (framing, TLS, copies)", Side::server,
                            Category::other, server_s * share));
  }
};

void set_layer(std::vector<CostStep>& group, std::size_t layer) {
  for (CostStep& s : group) s.layer = static_cast<uint32_t>(layer);
}

double total(std::pair<double, double> b) {
  return b.first + b.second;
}

void offline_steps(const PhaseReader& r, protocol::ProtocolKind kind, MeasuredCosts& out,
                   const PhaseCost& phase) {
  const bool sg = kind == protocol::ProtocolKind::server_garbler;
  std::vector<CostStep>& steps = out.costs.offline;
  const Transport transport{r.uncovered_cpu(Side::client, out.client_offline),
                            r.uncovered_cpu(Side::server, out.server_offline),
                            total(r.bytes("offline/"))};

  // The request and its answer, then key generation.
  std::vector<CostStep> start;
  add_transfers(start, "offline request", r.bytes("offline/request"));
  add_group(steps, std::move(start));
  add_group(steps, {compute("client HE keygen", Side::client, Category::he,
                            r.require(Side::client, Component::he_keygen))});

  // HE: the client's sender thread encrypts layer k + 1 while the server evaluates layer k and
  // the client decrypts layer k - 1.
  std::vector<CostStep> he;
  he.push_back(compute("client HE encrypt", Side::client, Category::he,
                       r.require(Side::client, Component::he_encrypt)));
  const auto he_bytes = r.bytes("offline/he");
  CostStep eval = compute("server HE evaluation", Side::server, Category::he,
                          r.require(Side::server, Component::he_evaluate));
  for (std::size_t i = 0; i < phase.layers.size(); ++i) {
    eval.per_layer_seconds.push_back(r.layer(i, Side::server, Component::he_evaluate));
  }
  if (!eval.per_layer_seconds.empty()) {
    eval.scaling = sim::Scaling::layer_parallel;  // one layer per HE thread (LPHE)
    eval.threads = sim::ThreadPool::server_he;
  }
  he.push_back(std::move(eval));
  he.push_back(compute("client HE decrypt", Side::client, Category::he,
                       r.require(Side::client, Component::he_decrypt)));
  add_transfers(he, "HE queries and responses", he_bytes);
  std::vector<CostStep> he_transport;
  transport.add_share(he_transport, total(he_bytes));
  // one linear layer per chunk
  add_pipeline(steps, one_step_lanes(std::move(he)), phase.layers.size(), std::move(he_transport));

  // Garbled circuits, chunk after chunk, each a strict chain (the protocol code and a trace of
  // both parties, docs/perf/closed_loop.md): the OT, then the garbler garbles the chunk, the
  // tables cross the link, the evaluator stores them, and only then starts the next chunk. A
  // chain of chains is the sum of its steps; the OT within a chunk is a pipeline (below). The
  // transport CPU (TLS, framing, copies) runs while the bytes it carries are on the link, so it
  // overlaps the transfers.
  const Side garbler = sg ? Side::server : Side::client;
  const Side evaluator = sg ? Side::client : Side::server;
  const std::string g_name(to_string(garbler)), e_name(to_string(evaluator));
  const auto gc_bytes = r.bytes("offline/gc");
  // SG: the client (evaluator) sends OT messages up and receives tables down; CG the reverse.
  const auto ot_bytes = sg ? std::pair{gc_bytes.first, 0.0} : std::pair{0.0, gc_bytes.second};
  const auto table_bytes = sg ? std::pair{0.0, gc_bytes.second} : std::pair{gc_bytes.first, 0.0};
  // Each chunk's OTs stream in frames of ot::kCotChunkOts: the evaluator (COT receiver)
  // computes frame k + 1 while frame k is on the link and the garbler takes in frame k - 1, a
  // pipeline as deep as a chunk has frames, which restarts with every chunk (the chain). With
  // chunks of equal size, the chain of those pipelines takes as long as one pipeline of that
  // depth over the phase's totals. (A report without the frame count: full overlap.)
  CostStep e_ot =
      compute(e_name + " OT", evaluator, Category::ot, r.require(evaluator, Component::ot));
  CostStep g_ot = compute(g_name + " OT", garbler, Category::ot, r.require(garbler, Component::ot));
  std::vector<CostStep> ot_link, ot_transport;
  add_transfers(ot_link, "OT extension messages", ot_bytes);
  transport.add_share(ot_transport, total(ot_bytes));
  if (phase.ot_frames > 0 && phase.gc_chunks > 0) {
    const double depth = static_cast<double>(phase.ot_frames) / phase.gc_chunks;
    add_pipeline(steps, {{std::move(e_ot)}, std::move(ot_link), {std::move(g_ot)}},
                 static_cast<std::size_t>(std::max(1.0, std::round(depth))),
                 std::move(ot_transport));
  } else {
    std::vector<CostStep> ot{std::move(e_ot), std::move(g_ot)};
    for (CostStep& s : ot_link) ot.push_back(std::move(s));
    for (CostStep& s : ot_transport) ot.push_back(std::move(s));
    add_group(steps, std::move(ot));
  }
  // The garbler writes what it keeps of a chunk (decode bits, its labels) right after garbling
  // it, on the same thread.
  add_group(steps, {compute(g_name + " garbling", garbler, Category::gc,
                            r.require(garbler, Component::garble))});
  add_group(steps, {compute(g_name + " store writes", garbler, Category::other,
                            r.optional(garbler, Component::store_write))});
  std::vector<CostStep> tables;
  add_transfers(tables, "garbled tables", table_bytes);
  transport.add_share(tables, total(table_bytes));
  add_group(steps, std::move(tables));
  add_group(steps, {compute(e_name + " store writes", evaluator, Category::other,
                            r.optional(evaluator, Component::store_write))});
  const auto done_bytes = r.bytes("offline/done");
  std::vector<CostStep> done;
  add_transfers(done, "cost report", done_bytes);
  transport.add_share(done, total(done_bytes));
  add_group(steps, std::move(done));
}

void online_steps(const PhaseReader& r, protocol::ProtocolKind kind, std::size_t stages,
                  MeasuredCosts& out) {
  const bool sg = kind == protocol::ProtocolKind::server_garbler;
  std::vector<CostStep>& steps = out.costs.online;
  const Transport transport{r.uncovered_cpu(Side::client, out.client_online),
                            r.uncovered_cpu(Side::server, out.server_online),
                            total(r.bytes("online/"))};
  (void)r.require(Side::server, Component::linear_shared);
  if (sg) {
    (void)r.require(Side::server, Component::gc_input_labels);
    (void)r.require(Side::client, Component::gc_evaluate);
    (void)r.require(Side::server, Component::output);
  } else {
    (void)r.require(Side::server, Component::gc_input_flips);
    (void)r.require(Side::client, Component::gc_flip_labels);
    (void)r.require(Side::server, Component::gc_evaluate);
  }
  // Opening the precompute: the server takes its half before accepting, then the client reads
  // its state (the per-stage reads of garbled tables are steps of their stage).
  double client_open = r.optional(Side::client, Component::store_read);
  double server_open = r.optional(Side::server, Component::store_read);
  for (std::size_t si = 0; si < stages; ++si) {
    client_open -= r.layer(si, Side::client, Component::store_read);
    server_open -= r.layer(si, Side::server, Component::store_read);
  }
  add_group(steps, {compute("server opens its precompute", Side::server, Category::other,
                            std::max(0.0, server_open))});
  add_group(steps, {compute("client opens its precompute", Side::client, Category::other,
                            std::max(0.0, client_open))});
  const auto input_bytes = r.bytes("online/input");
  std::vector<CostStep> input;
  add_transfers(input, "masked input", input_bytes);
  transport.add_share(input, total(input_bytes));
  add_group(steps, std::move(input));

  for (std::size_t si = 0; si < stages; ++si) {
    const std::string stage = "stage " + std::to_string(si);
    CostStep linear = compute(stage + ": server linear layers on shares", Side::server,
                              Category::ss, r.layer(si, Side::server, Component::linear_shared));
    linear.layer = static_cast<uint32_t>(si);
    add_group(steps, {std::move(linear)});
    if (si + 1 == stages) break;  // the last stage is linear only
    const auto stage_bytes = r.bytes("online/stage" + std::to_string(si));
    const std::size_t chunks = r.chunks(si);
    std::vector<std::vector<CostStep>> lanes;
    std::vector<CostStep> transports;
    transport.add_share(transports, total(stage_bytes));
    if (sg) {
      // A second server thread prepares and sends the input labels of every chunk ahead, so
      // they keep arriving while the client evaluates; the client evaluates a chunk (reading
      // its tables) and sends its output bits, chunk after chunk; the server decodes each
      // chunk's outputs as they come. A pipeline: the labels on the link beside the client's
      // chain. (The emulated downlink paces the client's reads and so keeps delivering while the
      // client computes only for its burst, 2 ms of rate per gap; a real link fills the socket
      // buffer meanwhile. docs/perf/closed_loop.md, "Tracing the phases".)
      lanes.push_back({compute(stage + ": server input labels", Side::server, Category::gc,
                               r.layer(si, Side::server, Component::gc_input_labels))});
      lanes.push_back(
          {CostStep::transfer(stage + " input labels (down)", Party::server, stage_bytes.second)});
      lanes.push_back(
          {compute(stage + ": client GC evaluation", Side::client, Category::gc,
                   r.layer(si, Side::client, Component::gc_evaluate)),
           compute(stage + ": client store reads", Side::client, Category::other,
                   r.layer(si, Side::client, Component::store_read)),
           CostStep::transfer(stage + " output bits (up)", Party::client, stage_bytes.first)});
      lanes.push_back({compute(stage + ": server store reads", Side::server, Category::other,
                               r.layer(si, Side::server, Component::store_read))});
      lanes.push_back({compute(stage + ": server output decoding", Side::server, Category::gc,
                               r.layer(si, Side::server, Component::output))});
      for (auto& lane : lanes) set_layer(lane, si);
      set_layer(transports, si);
      add_pipeline(steps, std::move(lanes), chunks, std::move(transports));
    } else {
      // A second server thread sends the flips of every chunk ahead; the client derives a
      // chunk's flip labels and sends them (a chain on the client), while the server evaluates
      // the previous chunk: a pipeline of the client's chain and the server's evaluation.
      lanes.push_back(
          {compute(stage + ": server input flips", Side::server, Category::gc,
                   r.layer(si, Side::server, Component::gc_input_flips)),
           CostStep::transfer(stage + " input flips (down)", Party::server, stage_bytes.second)});
      lanes.push_back(
          {compute(stage + ": client flip labels", Side::client, Category::gc,
                   r.layer(si, Side::client, Component::gc_flip_labels)),
           CostStep::transfer(stage + " flip labels (up)", Party::client, stage_bytes.first)});
      lanes.push_back({compute(stage + ": server GC evaluation", Side::server, Category::gc,
                               r.layer(si, Side::server, Component::gc_evaluate)),
                       compute(stage + ": server store reads", Side::server, Category::other,
                               r.layer(si, Side::server, Component::store_read))});
      lanes.push_back({compute(stage + ": client store reads", Side::client, Category::other,
                               r.layer(si, Side::client, Component::store_read))});
      for (auto& lane : lanes) set_layer(lane, si);
      set_layer(transports, si);
      add_pipeline(steps, std::move(lanes), chunks, std::move(transports));
    }
  }
  const auto output_bytes = r.bytes("online/output");
  const auto done_bytes = r.bytes("online/done");
  std::vector<CostStep> output;
  add_transfers(output, "output share and cost report",
                {output_bytes.first + done_bytes.first, output_bytes.second + done_bytes.second});
  transport.add_share(output, total(output_bytes) + total(done_bytes));
  add_group(steps, std::move(output));
}

}  // namespace

std::string format_coverage(const MeasuredCosts& m) {
  std::string out;
  for (const auto& [name, c] :
       {std::pair{"client offline", m.client_offline},
        std::pair{"server offline", m.server_offline}, std::pair{"client online", m.client_online},
        std::pair{"server online", m.server_online}}) {
    out += fmt::format("  {:<15} CPU {:>9.3f} s, in named components {:>9.3f} s ({:.1f}%)\n", name,
                       c.cpu_total_s, c.component_cpu_s,
                       c.cpu_total_s > 0 ? 100.0 * c.component_cpu_s / c.cpu_total_s : 100.0);
  }
  return out;
}

MeasuredCosts to_protocol_costs(const protocol::CostReport& offline,
                                const protocol::CostReport& online, protocol::ProtocolKind kind) {
  MeasuredCosts out;
  offline_steps(PhaseReader(offline.offline, "offline"), kind, out, offline.offline);
  std::size_t stages = 0;
  for (const protocol::LayerCost& l : online.online.layers) {
    if (l.name.starts_with("stage")) ++stages;
  }
  // The server reports every stage, the client all but the last; the merged list has one entry
  // per stage.
  online_steps(PhaseReader(online.online, "online"), kind, stages, out);
  out.costs.client_storage_bytes = offline.client_storage_bytes;
  out.costs.server_storage_bytes = offline.server_storage_bytes;
  return out;
}

}  // namespace pinfer::characterize
