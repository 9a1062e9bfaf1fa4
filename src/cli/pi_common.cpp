#include "pi_common.hpp"

#include <fmt/core.h>

#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>

#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/capped_read.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/service/client_session.hpp"
#include "pinfer/transport/server_connection.hpp"
#include "pinfer/transport/tls_certificate.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace pinfer::cli {

void add_link_options(CLI::App& cmd, LinkOptions& link) {
  cmd.add_option("--uplink-mbps", link.uplink_mbps,
                 "Uplink (client to server) in Mbit/s, 0 unshaped: a client paces its sends, a "
                 "server its reads")
      ->check(CLI::Range(0.0, 1e6));
  cmd.add_option("--downlink-mbps", link.downlink_mbps,
                 "Downlink (server to client) in Mbit/s, 0 unshaped: a client paces its reads, "
                 "a server its sends")
      ->check(CLI::Range(0.0, 1e6));
  cmd.add_option("--timeout-ms", link.timeout_ms, "Give up on a silent peer after this long")
      ->check(CLI::Range(100, 86'400'000));
}

std::unique_ptr<store::PrecomputeStore> open_store(const std::filesystem::path& dir,
                                                   const std::string& capacity,
                                                   const std::string& per_client) {
  store::StoreLimits limits;
  limits.capacity_bytes = parse_byte_size(capacity, "--capacity");
  if (!per_client.empty())
    limits.per_client_capacity_bytes = parse_byte_size(per_client, "--client-quota");
  return std::make_unique<store::PrecomputeStore>(dir, limits);
}

std::filesystem::path credentials_path(const std::filesystem::path& store_dir) {
  return store_dir / "CREDENTIALS";
}

SecretBuffer<std::byte> read_secret_file(const std::filesystem::path& path) {
  // Room for white space (an editor's newline) after the longest secret.
  constexpr std::size_t kMaxSecretFileBytes = protocol::kMaxRegistrationSecretBytes + 4096;
  const SecretBuffer<std::byte> raw = read_file_capped(path, kMaxSecretFileBytes);
  std::size_t n = raw.size();
  const auto is_space = [](std::byte b) {
    return b == std::byte{'\n'} || b == std::byte{'\r'} || b == std::byte{' '} ||
           b == std::byte{'\t'};
  };
  while (n > 0 && is_space(raw[n - 1])) --n;
  if (n == 0 || n > protocol::kMaxRegistrationSecretBytes) {
    throw InvalidArgument("registration secret file " + path.string() + " must hold 1.." +
                          std::to_string(protocol::kMaxRegistrationSecretBytes) + " bytes");
  }
  SecretBuffer<std::byte> secret(n);
  std::copy(raw.begin(), raw.begin() + n, secret.begin());
  return secret;
}

void add_client_security_options(CLI::App& cmd, ClientSecurityOptions& security) {
  auto* ca = cmd.add_option("--ca", security.ca,
                            "Trust servers whose certificate chains to this CA file (PEM); the "
                            "host name or IP is checked against the certificate");
  auto* pin = cmd.add_option("--pin", security.pin,
                             "Trust exactly the server certificate with this SHA-256 "
                             "fingerprint (64 hex digits, as `pinfer serve` prints it)");
  auto* insecure = cmd.add_flag("--insecure", security.insecure,
                                "Plain TCP without TLS (only to a loopback address)");
  ca->excludes(pin)->excludes(insecure);
  pin->excludes(insecure);
}

std::unique_ptr<transport::TcpChannel> connect_client(const std::string& endpoint,
                                                      const LinkOptions& link,
                                                      const ClientSecurityOptions& security) {
  transport::TcpOptions opt;
  opt.io_timeout_ms = link.timeout_ms;
  // The client emulates its own access link in both directions, so the flags act against any
  // server, not only one that shapes its sends.
  opt.send_rate_mbps = link.uplink_mbps;
  opt.recv_rate_mbps = link.downlink_mbps;
  return transport::connect_to_server(endpoint, opt,
                                      {.ca_file = security.ca,
                                       .pin = security.pin,
                                       .insecure_plaintext_loopback = security.insecure});
}

void add_client_options(CLI::App& cmd, ClientCommandOptions& opt) {
  cmd.add_option("--server", opt.server, "Server as host:port")->required();
  cmd.add_option("--store", opt.store, "Directory of the client's precompute store")->required();
  cmd.add_option("--capacity", opt.capacity, "Store capacity, e.g. 16GB");
  cmd.add_option("--protocol", opt.protocol, "Refuse a server not running this protocol");
  cmd.add_option("--report", opt.report, "Write the cost report (JSON) to this file");
  cmd.add_flag("--json", opt.json, "Print the report as JSON");
  add_link_options(cmd, opt.link);
  add_client_security_options(cmd, opt.security);
  add_threads_option(cmd, opt.threads);
}

void add_gc_scheme_option(CLI::App& cmd, std::string& scheme) {
  scheme = std::string(gc::to_string(protocol::kDefaultGcScheme));
  cmd.add_option("--gc-scheme", scheme,
                 "Garbling scheme: three-halves (default, 23% fewer table bytes) or half-gates "
                 "(faster per core); clients use the server's")
      ->check(CLI::IsMember({"half-gates", "three-halves"}));
}

void add_threads_option(CLI::App& cmd, unsigned& threads) {
  cmd.add_option("--threads", threads,
                 "Threads for garbling, evaluation and OT of one phase (default 0: all cores)")
      ->check(CLI::Range(0u, 1024u));
}

protocol::ServerOptions server_options(const std::string& scheme, unsigned threads) {
  protocol::ServerOptions o;
  o.gc_scheme = gc::parse_gc_scheme(scheme);
  o.threads = threads;
  return o;
}

void add_weight_cache_option(CLI::App& cmd, std::string& size) {
  cmd.add_option("--weight-cache", size,
                 "Memory for HE-encoded weights, e.g. 1GB (default 1GiB); layers beyond it are "
                 "encoded again for every offline phase (slower, same result)");
}

void apply_weight_cache(protocol::ServerOptions& options, const std::string& size) {
  if (!size.empty()) options.weight_cache_bytes = parse_byte_size(size, "--weight-cache");
}

ClientSession open_client_session(const ClientCommandOptions& opt,
                                  const protocol::AdmissionOptions& admission) {
  ClientSession s;
  s.store = open_store(opt.store, opt.capacity);
  // Credentials first: a missing registration is reported before any network traffic.
  const protocol::ClientCredentials credentials =
      protocol::load_credentials(credentials_path(opt.store));
  auto options = [&] {
    protocol::ClientOptions co{credentials.clone(), {}, terminal_progress()};
    co.threads = opt.threads;
    co.admission = admission;
    if (!opt.protocol.empty()) co.protocol = protocol::parse_protocol_kind(opt.protocol);
    return co;
  };
  service::ClientSessionParts parts = service::open_client_session(
      opt.server,
      [&](const std::string& endpoint) { return connect_client(endpoint, opt.link, opt.security); },
      *s.store, options,
      opt.on_redirect ? opt.on_redirect : [](const std::string& home) {
        fmt::print(stderr, "redirected to this client's home node at {}\n", home);
      });
  s.channel = std::move(parts.channel);
  s.client = std::move(parts.client);
  return s;
}

ClientSession open_admitted_session(const ClientCommandOptions& opt) {
  protocol::AdmissionOptions admission;
  admission.on_place =
      [last = std::make_shared<uint32_t>(UINT32_MAX)](const protocol::QueuePlace& place) {
        if (place.position == *last) return;  // a reminder of the same place: nothing new
        *last = place.position;
        if (place.position == 0) {
          fmt::print(stderr, "admitted by the server\n");
        } else {
          fmt::print(stderr, "waiting for a session: place {} of {} (about {:.1f} s)\n",
                     place.position, place.waiting, place.estimated_wait_ms / 1e3);
        }
      };
  protocol::RetryPolicy policy;
  policy.on_busy = [](const ServerBusyError& e, uint64_t wait_ms) {
    fmt::print(stderr, "{}; retrying in {} ms\n", e.what(), wait_ms);
  };
  std::optional<ClientSession> session;
  (void)protocol::retry_while_busy([&] { session.emplace(open_client_session(opt, admission)); },
                                   policy);
  return std::move(*session);
}

protocol::ProgressFn terminal_progress() {
  if (isatty(STDERR_FILENO) == 0) return {};
  auto last = std::make_shared<std::pair<std::string, int>>("", -1);
  return [last](std::string_view step, uint64_t done, uint64_t total) {
    const int pct = total == 0 ? 100 : static_cast<int>(100 * done / total);
    if (last->first == step && last->second == pct) return;  // redraw only on change
    last->first = std::string(step);
    last->second = pct;
    const int width = 30, filled = pct * width / 100;
    fmt::print(stderr, "\r{:<36} [{}{}] {:3}%", step, std::string(filled, '#'),
               std::string(width - filled, '.'), pct);
    if (done >= total) fmt::print(stderr, "\n");
  };
}

namespace {
service::ServiceOptions loopback_options(const LinkOptions& link,
                                         std::shared_ptr<const transport::TlsServerContext> tls,
                                         std::size_t max_sessions) {
  service::ServiceOptions so;
  so.max_sessions = max_sessions;
  so.insecure_plaintext_loopback = tls == nullptr;  // --insecure (loopback only, checked)
  so.tls = std::move(tls);
  so.tcp.io_timeout_ms = link.timeout_ms;
  so.tcp.send_rate_mbps = link.downlink_mbps;
  return so;
}
// A certificate that lives only in this process: the client pins its fingerprint, exactly as
// an operator's client would pin the one `pinfer serve` prints.
std::shared_ptr<const transport::TlsServerContext> ephemeral_tls() {
  const transport::PemCertificate cert = transport::make_certificate({});
  return transport::TlsServerContext::from_pem(cert.cert_pem, cert.key_pem.span());
}
}  // namespace

LoopbackServer::LoopbackServer(const nn::LoweredModel& model, protocol::ProtocolKind kind,
                               store::PrecomputeStore& store, const LinkOptions& link,
                               std::string log_prefix, bool insecure, std::size_t max_sessions,
                               protocol::ServerOptions server_options)
    : service_(
          model, kind, store,
          loopback_options(link, insecure ? nullptr : ephemeral_tls(), max_sessions),
          protocol::RegistrationPolicy::open,
          [prefix = std::move(log_prefix)](std::string_view m) {
            fmt::print(stderr, "{}: {}\n", prefix, m);
          },
          server_options),
      client_security_{
          .ca = {},
          .pin = service_.tls() ? transport::to_hex(service_.tls()->fingerprint()) : "",
          .insecure = insecure} {}

std::string LoopbackServer::endpoint() const {
  return service_.endpoint();
}

std::unique_ptr<transport::TcpChannel> LoopbackServer::connect(const LinkOptions& link) const {
  return connect_client(endpoint(), link, client_security_);
}

std::unique_ptr<transport::TcpChannel> LoopbackServer::connect_via(uint16_t relay_port,
                                                                   const LinkOptions& link) const {
  return connect_client("127.0.0.1:" + std::to_string(relay_port), link, client_security_);
}

protocol::ClientCredentials LoopbackServer::register_client(const LinkOptions& link) const {
  auto ch = connect(link);
  return protocol::register_with_server(*ch);
}

namespace {

void emit_report(const nlohmann::json& report, const std::string& table, const std::string& path,
                 bool json) {
  if (json) {
    fmt::print("{}\n", report.dump(2));
  } else {
    fmt::print("{}", table);
  }
  if (!path.empty()) {
    std::ofstream out(path);
    out << report.dump(2) << "\n";
    if (!out) throw IoError("cannot write report " + path);
  }
}

}  // namespace

void emit_report(const protocol::CostReport& report, const std::string& path, bool json) {
  emit_report(report.to_json(), report.to_table(), path, json);
}

void emit_report(const protocol::InferenceResult& result, const std::string& path, bool json) {
  emit_report(result.to_json(), result.cost.to_table(), path, json);
}

}  // namespace pinfer::cli
