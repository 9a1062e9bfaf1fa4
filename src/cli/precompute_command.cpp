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
  ClientCommandOptions client;
  std::size_t count = 1;
  bool fill = false;
};

void setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("precompute", "Run offline phases and store precomputes");
  add_client_options(*cmd, opt->client);
  auto* count =
      cmd->add_option("--count", opt->count, "Precomputes to make")->check(CLI::Range(1, 100000));
  cmd->add_flag("--fill", opt->fill, "Make precomputes until the client store is full")
      ->excludes(count);
  cmd->callback([opt] {
    ClientSession session = open_admitted_session(opt->client);
    protocol::InferenceClient& client = *session.client;
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
    emit_report(last, opt->client.report, opt->client.json);
  });
}

const CommandRegistration kRegistration("", "precompute", &setup);

}  // namespace
}  // namespace pinfer::cli
