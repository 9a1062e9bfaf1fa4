// `pinfer client register`: asks a server for a client id and a 256-bit token and keeps them in
// the client store's CREDENTIALS file (mode 0600), which precompute and infer present.
#include <fmt/core.h>

#include <memory>

#include "command_registry.hpp"
#include "pi_common.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/protocol/admission.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/inference_client.hpp"

namespace pinfer::cli {
namespace {

struct RegisterOptions {
  std::string server;
  std::string store;
  std::string capacity = "16GB";
  std::string registration_secret_file;
  LinkOptions link;
  ClientSecurityOptions security;
};

void setup(CLI::App& app) {
  CLI::App* group = app.add_subcommand("client", "Manage this client's identity at a server");
  group->require_subcommand(1);
  auto opt = std::make_shared<RegisterOptions>();
  CLI::App* cmd = group->add_subcommand(
      "register", "Register with a server; saves the issued id and token in STORE/CREDENTIALS");
  cmd->add_option("--server", opt->server, "Server as host:port")->required();
  cmd->add_option("--store", opt->store, "Directory of the client's precompute store")->required();
  cmd->add_option("--capacity", opt->capacity, "Store capacity if the store is created, e.g. 16GB");
  cmd->add_option("--registration-secret-file", opt->registration_secret_file,
                  "The server's registration secret, if it requires one");
  add_client_security_options(*cmd, opt->security);
  add_link_options(*cmd, opt->link);
  cmd->callback([opt] {
    auto store = open_store(opt->store, opt->capacity);
    const std::filesystem::path file = credentials_path(opt->store);
    if (std::filesystem::exists(file)) {
      // Replacing it would orphan this client's precomputes at its server.
      throw InvalidArgument(file.string() +
                            " exists: this store is already registered (delete the file to "
                            "register again; its precomputes at the server become unusable)");
    }
    SecretBuffer<std::byte> secret;
    if (!opt->registration_secret_file.empty()) {
      secret = read_secret_file(opt->registration_secret_file);
    }
    // A busy server's queue is waited in; a full one is retried after its hint.
    protocol::ClientCredentials credentials;
    protocol::RetryPolicy policy;
    policy.on_busy = [](const ServerBusyError& e, uint64_t wait_ms) {
      fmt::print(stderr, "{}; retrying in {} ms\n", e.what(), wait_ms);
    };
    (void)protocol::retry_while_busy(
        [&] {
          auto ch = connect_client(opt->server, opt->link, opt->security);
          credentials = protocol::register_with_server(*ch, secret.span());
          ch->close();
        },
        policy);
    protocol::save_credentials(file, credentials);
    // The id is public; the token is never printed.
    fmt::print("registered as client {} at {}; credentials saved in {}\n", credentials.client_id,
               opt->server, file.string());
  });
}

const CommandRegistration kRegistration("", "client", &setup);

}  // namespace
}  // namespace pinfer::cli
