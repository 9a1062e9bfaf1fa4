// `pinfer precompute`: run offline phases ahead of time and store them on both sides.
#include <fmt/core.h>

#include <memory>

#include "command_registry.hpp"
#include "pi_common.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/protocol/inference_client.hpp"

namespace pinfer::cli {
namespace {

struct Options {
  std::string server;
  std::string store;
  std::string capacity;
  std::string client_id;
  std::string protocol;
  std::size_t count = 1;
  bool fill = false;
  std::string report;
  bool json = false;
  LinkOptions link;
};

void setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("precompute", "Run offline phases and store precomputes");
  cmd->add_option("--server", opt->server, "Server as host:port")->required();
  cmd->add_option("--store", opt->store, "Directory of the client's precompute store")->required();
  cmd->add_option("--capacity", opt->capacity, "Store capacity, e.g. 16GB")->required();
  cmd->add_option("--client-id", opt->client_id, "Identity at the server (default: per store)");
  cmd->add_option("--protocol", opt->protocol, "Refuse a server not running this protocol");
  auto* count =
      cmd->add_option("--count", opt->count, "Precomputes to make")->check(CLI::Range(1, 100000));
  cmd->add_flag("--fill", opt->fill, "Make precomputes until the client store is full")
      ->excludes(count);
  cmd->add_option("--report", opt->report, "Write the last offline phase's cost report (JSON)");
  cmd->add_flag("--json", opt->json, "Print the report as JSON");
  add_link_options(*cmd, opt->link);
  cmd->callback([opt] {
    auto store = open_store(opt->store, opt->capacity);
    auto ch = connect_client(opt->server, opt->link);
    protocol::ClientOptions co{client_id_for(opt->store, opt->client_id), {}};
    if (!opt->protocol.empty()) co.protocol = protocol::parse_protocol_kind(opt->protocol);
    protocol::InferenceClient client(*ch, *store, co);
    protocol::CostReport last;
    std::size_t made = 0;
    for (; opt->fill || made < opt->count; ++made) {
      try {
        last = client.precompute();
      } catch (const StoreError& e) {
        if (opt->fill && made > 0) break;  // the client store is full: done
        throw;
      }
      fmt::print(stderr, "precompute {} stored ({:.2f} s offline)\n", last.precompute_id,
                 last.offline.seconds);
    }
    client.close();
    fmt::print(stderr, "{} precompute(s) made; {} stored for this server\n", made,
               client.stored_precomputes());
    emit_report(last, opt->report, opt->json);
  });
}

const CommandRegistration kRegistration("", "precompute", &setup);

}  // namespace
}  // namespace pinfer::cli
