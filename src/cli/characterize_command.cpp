// `pinfer characterize MODEL --protocol P`: measures pinfer itself on this machine by a full
// run (one offline phase and one online phase, client and server in this process over loopback
// TCP; characterize/characterize_model.hpp), checked against the fixed-point engine bit for bit,
// and writes the cost report and a simulator cost profile built from it
// (characterize/measured_profile.hpp: busy time per side and step, store I/O, bytes per
// transfer, overlapping groups, per-layer HE).
#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "calibration_option.hpp"
#include "command_registry.hpp"
#include "pi_common.hpp"
#include "pinfer/characterize/characterize_model.hpp"
#include "pinfer/core/byte_size.hpp"
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
  std::string weight_cache;
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
  add_weight_cache_option(*cmd, opt->weight_cache);
  cmd->callback([opt] {
    fmt::print(stderr, "loading {} ...\n", opt->model);
    const nn::LoadedModel loaded = load_model_to_serve(opt->model, opt->calibration);
    characterize::CharacterizeOptions co;
    co.protocols = opt->protocols;
    co.store_dir = opt->store_dir;
    co.capacity_bytes = parse_byte_size(opt->capacity, "--capacity");
    co.insecure = opt->insecure;
    co.server = server_options(opt->gc_scheme, opt->threads);
    apply_weight_cache(co.server, opt->weight_cache);
    co.client_threads = opt->threads;
    co.progress = terminal_progress();
    co.log = [](std::string_view m) { fmt::print(stderr, "{}\n", m); };
    const characterize::Characterization c = characterize::characterize_model(loaded.lowered, co);
    for (const characterize::CharacterizedProtocol& run : c.runs) {
      std::string report_path;
      if (!opt->report_dir.empty()) {
        fs::create_directories(opt->report_dir);
        report_path = (fs::path(opt->report_dir) / (run.name + ".json")).string();
      }
      emit_report(run.measured.online, report_path, false);
      fmt::print(stderr, "{}", characterize::format_coverage(run.measured.costs));
    }
    if (!opt->out.empty()) {
      sim::save_cost_profile(c.profile, opt->out);
      fmt::print("cost profile written to {}\n", opt->out);
    }
  });
}

const CommandRegistration kRegistration("", "characterize", &setup);

}  // namespace
}  // namespace pinfer::cli
