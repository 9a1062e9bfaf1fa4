#include "pinfer/characterize/characterize_model.hpp"

#include <memory>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/service/background_service.hpp"
#include "pinfer/store/precompute_store.hpp"
#include "pinfer/transport/server_connection.hpp"
#include "pinfer/transport/tls_certificate.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace fs = std::filesystem;

namespace pinfer::characterize {
namespace {

// Removes a temporary directory on every path (a failed run leaves no stores behind).
struct TemporaryDirectory {
  fs::path path;
  bool owned = false;
  ~TemporaryDirectory() {
    std::error_code ec;
    if (owned) fs::remove_all(path, ec);
  }
};

// One protocol measured against a server of this process.
MeasuredRun measure_protocol(const nn::LoweredModel& model, protocol::ProtocolKind kind,
                             const fs::path& work, const std::string& name,
                             const CharacterizeOptions& options) {
  store::StoreLimits limits;
  limits.capacity_bytes = options.capacity_bytes;
  store::PrecomputeStore server_store(work / (name + "-server"), limits);
  store::PrecomputeStore client_store(work / (name + "-client"), limits);
  service::ServiceOptions so;
  so.insecure_plaintext_loopback = options.insecure;
  if (!options.insecure) {
    // A certificate that lives only in this process; the client pins its fingerprint, exactly
    // as an operator's client pins the one `pinfer serve` prints.
    const transport::PemCertificate cert = transport::make_certificate({});
    so.tls = transport::TlsServerContext::from_pem(cert.cert_pem, cert.key_pem.span());
  }
  service::InferenceService::Logger server_log;
  if (options.log) {
    server_log = [log = options.log](std::string_view m) {
      log("characterize server: " + std::string(m));
    };
  }
  service::BackgroundService server(model, kind, server_store, std::move(so),
                                    protocol::RegistrationPolicy::open, std::move(server_log),
                                    options.server);
  const transport::ServerTrust trust{
      .ca_file = {},
      .pin = server.tls() ? transport::to_hex(server.tls()->fingerprint()) : "",
      .insecure_plaintext_loopback = options.insecure};
  protocol::ClientCredentials credentials;
  {
    auto ch = transport::connect_to_server(server.endpoint(), {}, trust);
    credentials = protocol::register_with_server(*ch);
  }
  Prg prg;
  const FloatTensor x = sample_input(model, prg);
  auto ch = transport::connect_to_server(server.endpoint(), {}, trust);
  if (options.log) {
    options.log(name + ": offline and online phase (" +
                std::string(gc::to_string(options.server.gc_scheme)) + " garbling, " +
                std::to_string(protocol::resolve_threads(options.client_threads)) +
                " threads per side) ...");
  }
  protocol::ClientOptions co{std::move(credentials), kind, options.progress};
  co.threads = options.client_threads;
  MeasuredRun measured = measure_once(*ch, client_store, std::move(co), model, x);
  if (options.log) options.log(name + ": private logits bit-exact with the fixed-point engine");
  return measured;
}

}  // namespace

Characterization characterize_model(const nn::LoweredModel& model,
                                    const CharacterizeOptions& options) {
  if (options.protocols.empty()) throw InvalidArgument("characterize: no protocol to measure");
  std::vector<protocol::ProtocolKind> kinds;
  for (const std::string& name : options.protocols) {
    kinds.push_back(protocol::parse_protocol_kind(name));
  }
  Characterization c;
  c.profile.name = "measured:" + model.name;
  c.profile.network = model.name;
  c.profile.dataset = "";
  c.profile.source = {
      "measured", "full run",
      options.insecure ? "pinfer characterize on this machine, client and server over loopback TCP"
                       : "pinfer characterize on this machine, client and server over "
                         "loopback TCP with TLS 1.3"};
  c.profile.relu_count = nn::count(model).relus;
  TemporaryDirectory work{options.store_dir, options.store_dir.empty()};
  if (work.owned) {
    work.path = fs::temp_directory_path() /
                ("pinfer-characterize-" + store::new_precompute_id().substr(0, 12));
  }
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const std::string name = sim::canonical_protocol_name(options.protocols[i]);
    CharacterizedProtocol run{name, measure_protocol(model, kinds[i], work.path, name, options)};
    c.profile.protocols[name] = run.measured.costs.costs;
    c.runs.push_back(std::move(run));
  }
  return c;
}

}  // namespace pinfer::characterize
