// `pinfer characterize MODEL --protocol P`: measures pinfer itself on this machine by a full
// run (one offline phase and one online phase, client and server in this process over loopback
// TCP), checks the private result against the fixed-point engine bit for bit, and writes the cost
// report and a simulator cost profile built from it (characterize/measured_profile.hpp: busy
// time per side and step, store I/O, bytes per transfer, overlapping groups, per-layer HE).
#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "calibration_option.hpp"
#include "command_registry.hpp"
#include "pi_common.hpp"
#include "pinfer/characterize/measure_once.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/nn/model_loader.hpp"
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
  std::string calibration;
  bool insecure = false;
  std::string gc_scheme;
  unsigned threads = 0;
};

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
  add_calibration_option(*cmd, opt->calibration);
  cmd->add_flag("--insecure", opt->insecure,
                "Plain TCP instead of TLS 1.3 (pinned ephemeral certificate) between the two");
  add_gc_scheme_option(*cmd, opt->gc_scheme);
  add_threads_option(*cmd, opt->threads);
  cmd->callback([opt] {
    fmt::print(stderr, "loading {} ...\n", opt->model);
    const nn::LoadedModel loaded = load_model_to_serve(opt->model, opt->calibration);
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
                                  opt->insecure, net::ServiceOptions{}.max_sessions,
                                  server_options(opt->gc_scheme, opt->threads));
      Prg prg;
      const FloatTensor x = characterize::sample_input(loaded.lowered, prg);
      characterize::MeasuredRun measured;
      {
        protocol::ClientCredentials credentials = server.register_client({});
        auto ch = server.connect({});
        fmt::print(stderr, "{}: offline and online phase ({} garbling, {} threads per side) ...\n",
                   name, opt->gc_scheme, protocol::resolve_threads(opt->threads));
        protocol::ClientOptions co{std::move(credentials), kind, terminal_progress()};
        co.threads = opt->threads;
        measured = characterize::measure_once(*ch, *client_store, std::move(co), loaded.lowered, x);
        fmt::print(stderr, "{}: private logits bit-exact with the fixed-point engine\n", name);
      }
      const protocol::CostReport& run = measured.online;
      std::string report_path;
      if (!opt->report_dir.empty()) {
        fs::create_directories(opt->report_dir);
        report_path = (fs::path(opt->report_dir) / (name + ".json")).string();
      }
      emit_report(run, report_path, false);
      fmt::print(stderr, "{}", characterize::format_coverage(measured.costs));
      profile.protocols[sim::canonical_protocol_name(name)] = measured.costs.costs;
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
