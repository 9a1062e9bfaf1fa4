// `pinfer infer`: one private inference against a server.
#include <fmt/core.h>

#include <memory>

#include "command_registry.hpp"
#include "pi_common.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/protocol/inference_client.hpp"

namespace pinfer::cli {
namespace {

struct Options {
  std::string server;
  std::string input;
  std::string store;
  std::string capacity = "16GB";
  std::string client_id;
  std::string protocol;
  bool no_on_demand = false;
  std::string report;
  bool json = false;
  LinkOptions link;
};

void setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("infer", "Run one private inference");
  cmd->add_option("--server", opt->server, "Server as host:port")->required();
  cmd->add_option("--input", opt->input, "Input: .npy (float32 NCHW) or .pgm")->required();
  cmd->add_option("--store", opt->store, "Directory of the client's precompute store")->required();
  cmd->add_option("--capacity", opt->capacity, "Store capacity, e.g. 16GB");
  cmd->add_option("--client-id", opt->client_id, "Identity at the server (default: per store)");
  cmd->add_option("--protocol", opt->protocol, "Refuse a server not running this protocol");
  cmd->add_flag("--no-on-demand", opt->no_on_demand,
                "Fail instead of running the offline phase when no precompute is stored");
  cmd->add_option("--report", opt->report, "Write the cost report (JSON) to this file");
  cmd->add_flag("--json", opt->json, "Print the report as JSON");
  add_link_options(*cmd, opt->link);
  cmd->callback([opt] {
    auto store = open_store(opt->store, opt->capacity);
    auto ch = connect_client(opt->server, opt->link);
    protocol::ClientOptions co{client_id_for(opt->store, opt->client_id), {}};
    if (!opt->protocol.empty()) co.protocol = protocol::parse_protocol_kind(opt->protocol);
    protocol::InferenceClient client(*ch, *store, co);
    const FloatTensor x = nn::load_input_file(opt->input, client.architecture().input_shape);
    if (client.stored_precomputes() == 0 && !opt->no_on_demand) {
      fmt::print(stderr, "no stored precompute: running the offline phase first\n");
    }
    const protocol::CostReport report = client.infer(x, !opt->no_on_demand);
    client.close();
    if (!opt->json) fmt::print("prediction: {}\n", report.prediction);
    emit_report(report, opt->report, opt->json);
  });
}

const CommandRegistration kRegistration("", "infer", &setup);

}  // namespace
}  // namespace pinfer::cli
