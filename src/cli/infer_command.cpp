// `pinfer infer`: one private inference against a server.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <memory>

#include "command_registry.hpp"
#include "pi_common.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/protocol/inference_client.hpp"

namespace pinfer::cli {
namespace {

struct Options {
  ClientCommandOptions client;
  std::string input;
  bool no_on_demand = false;
};

void setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("infer", "Run one private inference");
  add_client_options(*cmd, opt->client);
  cmd->add_option("--input", opt->input, "Input: .npy (float32 NCHW), .pgm or .png")->required();
  cmd->add_flag("--no-on-demand", opt->no_on_demand,
                "Fail instead of running the offline phase when no precompute is stored");
  cmd->callback([opt] {
    ClientSession session = open_admitted_session(opt->client);
    protocol::InferenceClient& client = *session.client;
    const FloatTensor x = nn::load_input_file(opt->input, client.architecture().input_shape);
    if (client.stored_precomputes() == 0 && !opt->no_on_demand) {
      fmt::print(stderr, "no stored precompute: running the offline phase first\n");
    }
    const protocol::InferenceResult report = client.infer(x, !opt->no_on_demand);
    client.close();
    if (!opt->client.json) {
      if (report.labels.size() > 1) {
        fmt::print("top {} labels: {} (the server reveals only these)\n", report.labels.size(),
                   fmt::join(report.labels, " "));
      } else {
        fmt::print("prediction: {} (the server reveals the {})\n", report.prediction,
                   report.reveals);
      }
    }
    emit_report(report, opt->client.report, opt->client.json);
  });
}

const CommandRegistration kRegistration("", "infer", &setup);

}  // namespace
}  // namespace pinfer::cli
