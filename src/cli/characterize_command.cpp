// `pinfer characterize MODEL --protocol P`: measures pinfer itself on this machine by a full
// run (one offline phase and one online phase, client and server in this process over loopback
// TCP) and writes the cost report and a simulator cost profile (sim/cost_profile.hpp) built
// from it: per-side compute seconds by component, bytes per transfer step, storage per
// precompute, and per-layer HE seconds for layer-parallel HE.
#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "command_registry.hpp"
#include "pi_common.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/sim/cost_profile.hpp"

namespace fs = std::filesystem;

namespace pinfer::cli {
namespace {

struct Options {
  std::string model;
  std::vector<std::string> protocols = {"server-garbler", "client-garbler"};
  std::string out;
  std::string report_dir;
  std::string store_dir;
  std::string capacity = "200GB";
  bool insecure = false;
};

double component(const protocol::PhaseCost& p, const std::string& name) {
  auto it = p.components.find(name);
  return it == p.components.end() ? 0.0 : it->second;
}

// Bytes of all transfer steps whose name starts with `prefix`.
std::pair<double, double> bytes_of(const protocol::PhaseCost& p, const std::string& prefix) {
  double up = 0, down = 0;
  for (const auto& [k, t] : p.transfers) {
    if (k.starts_with(prefix)) {
      up += static_cast<double>(t.bytes_sent);
      down += static_cast<double>(t.bytes_received);
    }
  }
  return {up, down};
}

void add_compute(std::vector<sim::CostStep>& steps, std::string label, sim::Party party,
                 sim::Category cat, double seconds, sim::Scaling scaling = sim::Scaling::none,
                 sim::ThreadPool pool = sim::ThreadPool::none) {
  sim::CostStep s = sim::CostStep::compute(std::move(label), party, cat, seconds);
  s.scaling = scaling;
  s.threads = pool;
  steps.push_back(std::move(s));
}

void add_transfers(std::vector<sim::CostStep>& steps, const std::string& label,
                   std::pair<double, double> bytes) {
  if (bytes.first > 0)
    steps.push_back(sim::CostStep::transfer(label + " (up)", sim::Party::client, bytes.first));
  if (bytes.second > 0) {
    steps.push_back(sim::CostStep::transfer(label + " (down)", sim::Party::server, bytes.second));
  }
}

// The measured run as ordered simulator steps (the order of the protocol's phases; online
// stages are summed since they alternate compute and transfers on both sides).
sim::ProtocolCosts to_profile(const protocol::CostReport& pre, const protocol::CostReport& run,
                              protocol::ProtocolKind kind) {
  using sim::Category;
  using sim::Party;
  const bool sg = kind == protocol::ProtocolKind::server_garbler;
  sim::ProtocolCosts c;
  const protocol::PhaseCost& off = pre.offline;
  add_compute(c.offline, "client HE keygen + encrypt", Party::client, Category::he,
              component(off, "client/he_keygen") + component(off, "client/he_encrypt"));
  const auto he_bytes = bytes_of(off, "offline/he");
  if (he_bytes.first > 0)
    c.offline.push_back(sim::CostStep::transfer("HE queries", Party::client, he_bytes.first));
  sim::CostStep eval = sim::CostStep::compute("server HE evaluation", Party::server, Category::he,
                                              component(off, "server/he_evaluate"));
  for (const auto& layer : off.layers) {
    auto it = layer.seconds.find("server/he_evaluate");
    if (it != layer.seconds.end()) eval.per_layer_seconds.push_back(it->second);
  }
  if (!eval.per_layer_seconds.empty()) {
    eval.scaling = sim::Scaling::layer_parallel;
    eval.threads = sim::ThreadPool::server_he;
  }
  c.offline.push_back(std::move(eval));
  if (he_bytes.second > 0)
    c.offline.push_back(sim::CostStep::transfer("HE responses", Party::server, he_bytes.second));
  add_compute(c.offline, "client HE decrypt", Party::client, Category::he,
              component(off, "client/he_decrypt"));
  add_compute(c.offline, "client OT", Party::client, Category::ot, component(off, "client/ot"));
  add_compute(c.offline, "server OT", Party::server, Category::ot, component(off, "server/ot"));
  if (sg) {
    add_compute(c.offline, "server garbling", Party::server, Category::gc,
                component(off, "server/garble"), sim::Scaling::linear, sim::ThreadPool::server_gc);
  } else {
    add_compute(c.offline, "client garbling", Party::client, Category::gc,
                component(off, "client/garble"), sim::Scaling::linear, sim::ThreadPool::client);
  }
  add_transfers(c.offline, "garbled circuits and OT", bytes_of(off, "offline/gc"));

  const protocol::PhaseCost& on = run.online;
  add_transfers(c.online, "masked input", bytes_of(on, "online/input"));
  add_compute(c.online, "server linear layers on shares", Party::server, Category::ss,
              component(on, "server/linear_shared"));
  if (sg) {
    add_compute(c.online, "server input labels", Party::server, Category::gc,
                component(on, "server/gc_input_labels"));
    add_transfers(c.online, "labels and output bits", bytes_of(on, "online/stage"));
    add_compute(c.online, "client GC evaluation", Party::client, Category::gc,
                component(on, "client/gc_evaluate"), sim::Scaling::linear, sim::ThreadPool::client);
    add_compute(c.online, "server output decoding", Party::server, Category::gc,
                component(on, "server/output"));
  } else {
    add_compute(c.online, "server input flips", Party::server, Category::gc,
                component(on, "server/gc_input_flips"));
    add_transfers(c.online, "flips and flip labels", bytes_of(on, "online/stage"));
    add_compute(c.online, "client flip labels", Party::client, Category::gc,
                component(on, "client/gc_flip_labels"));
    add_compute(c.online, "server GC evaluation", Party::server, Category::gc,
                component(on, "server/gc_evaluate"), sim::Scaling::linear,
                sim::ThreadPool::server_gc);
  }
  add_transfers(c.online, "prediction", bytes_of(on, "online/output"));
  c.client_storage_bytes = pre.client_storage_bytes;
  c.server_storage_bytes = pre.server_storage_bytes;
  return c;
}

void setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "characterize", "Measure one offline + online run and write a simulator cost profile");
  cmd->add_option("model", opt->model, "Model: path.onnx or a built-in name")->required();
  cmd->add_option("--protocol", opt->protocols, "Protocols to measure (default: both)");
  cmd->add_option("--out", opt->out, "Write the cost profile (JSON) here");
  cmd->add_option("--report-dir", opt->report_dir, "Write each protocol's cost report here");
  cmd->add_option("--store-dir", opt->store_dir,
                  "Where the precompute stores go (default: a temporary directory)");
  cmd->add_option("--capacity", opt->capacity, "Capacity of each store");
  cmd->add_flag("--insecure", opt->insecure,
                "Plain TCP instead of TLS 1.3 (pinned ephemeral certificate) between the two");
  cmd->callback([opt] {
    fmt::print(stderr, "loading {} ...\n", opt->model);
    const nn::LoadedModel loaded = nn::load_model(opt->model);
    sim::CostProfile profile;
    profile.name = "measured:" + loaded.lowered.name;
    profile.network = loaded.lowered.name;
    profile.dataset = "";
    profile.source = {
        "measured", "full run",
        opt->insecure ? "pinfer characterize on this machine, client and server over loopback TCP"
                      : "pinfer characterize on this machine, client and server over "
                        "loopback TCP with TLS 1.3"};
    profile.relu_count = nn::count(loaded.lowered).relus;
    const fs::path work =
        opt->store_dir.empty()
            ? fs::temp_directory_path() /
                  ("pinfer-characterize-" + protocol::new_precompute_id().substr(0, 12))
            : fs::path(opt->store_dir);
    for (const std::string& name : opt->protocols) {
      const protocol::ProtocolKind kind = protocol::parse_protocol_kind(name);
      auto server_store = open_store(work / (name + "-server"), opt->capacity);
      auto client_store = open_store(work / (name + "-client"), opt->capacity);
      const LoopbackServer server(loaded.lowered, kind, *server_store, {}, "characterize server",
                                  opt->insecure);
      protocol::CostReport pre, run;
      {
        protocol::ClientCredentials credentials = server.register_client({});
        auto ch = server.connect({});
        protocol::InferenceClient client(*ch, *client_store,
                                         {std::move(credentials), kind, terminal_progress()});
        fmt::print(stderr, "{}: offline phase ...\n", name);
        pre = client.precompute();
        fmt::print(stderr, "{}: online phase ...\n", name);
        FloatTensor x(loaded.lowered.input_shape);
        Prg prg;
        for (auto& v : x.values()) v = static_cast<float>(prg.uniform_below(1000)) / 1000.0f;
        run = client.infer(x, false);
        client.close();
      }
      run.offline = pre.offline;
      run.server_storage_bytes = pre.server_storage_bytes;
      run.client_storage_bytes = pre.client_storage_bytes;
      std::string report_path;
      if (!opt->report_dir.empty()) {
        fs::create_directories(opt->report_dir);
        report_path = (fs::path(opt->report_dir) / (name + ".json")).string();
      }
      emit_report(run, report_path, false);
      profile.protocols[sim::canonical_protocol_name(name)] = to_profile(pre, run, kind);
    }
    if (opt->store_dir.empty()) fs::remove_all(work);
    if (!opt->out.empty()) {
      sim::save_cost_profile(profile, opt->out);
      fmt::print("cost profile written to {}\n", opt->out);
    }
  });
}

const CommandRegistration kRegistration("", "characterize", &setup);

}  // namespace
}  // namespace pinfer::cli
