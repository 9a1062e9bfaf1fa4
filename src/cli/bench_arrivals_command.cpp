// `pinfer bench arrivals`: the real system under Poisson request arrivals, optionally beside the
// simulator's prediction for the same settings and arrival seeds (docs/perf/closed_loop.md).
//
// The server is a real InferenceService on loopback (TLS 1.3 by default), or a running `pinfer
// serve` named by --server. K clients, each with its own store, its own shaped access link and
// a precompute thread following the policy, run for
// --duration-s; then every arrived request is served and the run stops by itself
// (characterize/arrival_run.hpp). With --simulate, one unloaded offline + online run is measured
// first (busy time per step, characterize/measured_profile.hpp), and the simulator runs the same
// settings in contended mode with one shared pool of this machine's cores, since clients and
// server share them here.
//
// Links: with the built-in server each client's two connections go through a transport::LinkRelay
// of its uplink and downlink rates (one access link per client, both directions, carried after the
// sender's write returned as on a real link). Against --server the client paces its own sends
// and reads (TcpOptions), which blocks a sender for its bytes' serialization time.
#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "command_registry.hpp"
#include "pi_common.hpp"
#include "pinfer/characterize/arrival_run.hpp"
#include "pinfer/characterize/measure_once.hpp"
#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/sim/multi_client.hpp"
#include "pinfer/sim/pi_model.hpp"
#include "pinfer/transport/endpoint.hpp"
#include "pinfer/transport/link_relay.hpp"

namespace pinfer::cli {
namespace {

namespace fs = std::filesystem;

struct Options {
  std::string model;
  std::string protocol = "client-garbler";
  uint32_t clients = 1;
  double rate = 0;
  std::string client_storage = "1GB";
  std::string server_storage = "100GB";
  double uplink_mbps = 0;
  double downlink_mbps = 0;
  double duration_s = 60;
  double deadline_s = 0;
  uint64_t seed = 1;
  std::string policy = "poll";
  double poll_interval_s = 1.0;
  bool json = false;
  bool simulate = false;
  std::string out;
  std::string work;
  bool insecure = false;  // the built-in server speaks plain TCP
  std::string gc_scheme;  // the built-in server's
  unsigned threads = 0;   // the built-in server's and each client's
  // A running server instead of the built-in one.
  std::string server;
  ClientSecurityOptions security;
};

// The links of the simulator when the run is unshaped: transfers then cost only the CPU of the
// transport steps, so the link itself is taken as practically free.
constexpr double kUnshapedMbps = 1e6;

sim::RequestRecord to_record(const characterize::MeasuredRequest& m) {
  sim::RequestRecord r;
  r.client = m.client;
  r.arrival_s = m.arrival_s;
  r.start_s = m.start_s;
  r.offline_wait_s = m.offline_wait_s;
  r.end_s = m.end_s;
  return r;
}

double relative_error(double simulated, double measured) {
  return measured > 0 ? (simulated - measured) / measured : 0.0;
}

void print_side_by_side(const nlohmann::json& measured, const nlohmann::json* simulated) {
  fmt::print("{:<22} {:>12}", "figure", "measured");
  if (simulated != nullptr) fmt::print(" {:>12} {:>10}", "simulated", "rel. err");
  fmt::print("\n");
  for (const char* key : {"mean_latency_s", "p50_latency_s", "p95_latency_s", "p99_latency_s",
                          "mean_queue_s", "mean_offline_wait_s", "mean_online_s", "served"}) {
    const double m = measured.value(key, 0.0);
    fmt::print("{:<22} {:>12.4f}", key, m);
    if (simulated != nullptr) {
      const double s = simulated->value(key, 0.0);
      fmt::print(" {:>12.4f} {:>9.1f}%", s, 100.0 * relative_error(s, m));
    }
    fmt::print("\n");
  }
}

// The measured steps as a whole profile, so the output can be replayed with `pinfer simulate`.
sim::CostProfile profile_of(const characterize::MeasuredRun& m, const nn::LoadedModel& loaded,
                            const Options& opt) {
  sim::CostProfile p;
  p.name = "measured:" + loaded.lowered.name;
  p.network = loaded.lowered.name;
  p.source = {"measured", "full run, unloaded",
              "pinfer bench arrivals --simulate on this machine (loopback)"};
  p.relu_count = m.online.relus;
  p.protocols[opt.protocol] = m.costs.costs;
  return p;
}

void run(const Options& opt) {
  const protocol::ProtocolKind kind = protocol::parse_protocol_kind(opt.protocol);
  const uint64_t client_bytes = parse_byte_size(opt.client_storage, "--client-storage");
  const uint64_t server_bytes = parse_byte_size(opt.server_storage, "--server-storage");
  characterize::ArrivalSettings settings;
  settings.protocol = kind;
  settings.rate_per_client = opt.rate;
  settings.duration_s = opt.duration_s;
  settings.deadline_s = opt.deadline_s;
  settings.seed = opt.seed;
  settings.policy = sim::parse_policy(opt.policy, "--policy");
  settings.poll_interval_s = opt.poll_interval_s;
  settings.threads = opt.threads;

  fmt::print(stderr, "loading {} ...\n", opt.model);
  const nn::LoadedModel loaded = nn::load_model(opt.model);
  const fs::path work = opt.work.empty()
                            ? fs::temp_directory_path() /
                                  ("pinfer-arrivals-" + store::new_precompute_id().substr(0, 12))
                            : fs::path(opt.work);
  struct Cleanup {
    fs::path dir;
    bool remove;
    ~Cleanup() {
      std::error_code ec;
      if (remove) fs::remove_all(dir, ec);
    }
  } cleanup{work, opt.work.empty()};

  // The server: built in (its store holds server_storage, each client a 1/K quota), or remote.
  std::unique_ptr<store::PrecomputeStore> server_store;
  std::unique_ptr<LoopbackServer> local;
  const LinkOptions client_link{opt.uplink_mbps, opt.downlink_mbps, 300'000};
  std::function<std::unique_ptr<transport::TcpChannel>(const LinkOptions&)> connect;
  if (opt.server.empty()) {
    server_store = open_store(work / "server", opt.server_storage,
                              std::to_string(server_bytes / opt.clients) + "B");
    // Two sessions per client (online and precompute) plus one for measuring.
    local = std::make_unique<LoopbackServer>(
        loaded.lowered, kind, *server_store, LinkOptions{}, "arrivals server", opt.insecure,
        2 * std::size_t{opt.clients} + 2, server_options(opt.gc_scheme, opt.threads));
    connect = [&](const LinkOptions& link) { return local->connect(link); };
  } else {
    connect = [&](const LinkOptions& link) {
      return connect_client(opt.server, link, opt.security);
    };
  }
  const auto register_client = [&] {
    auto ch = connect(LinkOptions{});
    return protocol::register_with_server(*ch);
  };

  nlohmann::json out;
  std::optional<characterize::MeasuredRun> measured_profile;
  if (opt.simulate) {
    fmt::print(stderr,
               "measuring three unloaded offline + online runs (after a warm-up run) for the "
               "profile ...\n");
    auto store = open_store(work / "profile-client", "1000GB");
    auto ch = connect(LinkOptions{});
    Prg prg;
    protocol::ClientOptions co{register_client(), kind, {}};
    co.threads = opt.threads;
    measured_profile =
        characterize::measure_once(*ch, *store, std::move(co), loaded.lowered,
                                   characterize::sample_input(loaded.lowered, prg), /*warmups=*/1,
                                   /*runs=*/3);
    fmt::print(stderr, "{}", characterize::format_coverage(measured_profile->costs));
  }

  std::vector<std::unique_ptr<store::PrecomputeStore>> stores;
  std::vector<characterize::ArrivalClient> clients;
  std::vector<std::unique_ptr<transport::LinkRelay>> links;  // built-in server: one per client
  for (uint32_t i = 0; i < opt.clients; ++i) {
    stores.push_back(open_store(work / ("client" + std::to_string(i)), opt.client_storage));
    std::function<std::unique_ptr<Channel>()> connect_client_i;
    if (local) {
      const transport::Endpoint server = transport::parse_endpoint(local->endpoint());
      links.push_back(std::make_unique<transport::LinkRelay>(server.host, server.port,
                                                             opt.uplink_mbps, opt.downlink_mbps));
      connect_client_i = [&, port = links.back()->port()] {
        return std::unique_ptr<Channel>(local->connect_via(port, LinkOptions{}));
      };
    } else {
      connect_client_i = [&, client_link] {
        return std::unique_ptr<Channel>(connect(client_link));
      };
    }
    clients.push_back({std::move(connect_client_i), register_client(), stores.back().get()});
  }
  fmt::print(stderr, "running {} client(s) at {} requests/s each for {} s ...\n", opt.clients,
             opt.rate, opt.duration_s);
  const characterize::ArrivalRunResult result =
      characterize::run_arrivals(loaded.lowered, clients, settings);

  std::vector<sim::RequestRecord> records;
  nlohmann::json requests = nlohmann::json::array();
  uint64_t wrong = 0;
  for (const characterize::MeasuredRequest& m : result.requests) {
    records.push_back(to_record(m));
    nlohmann::json j = sim::to_json(records.back());
    j["bit_exact"] = m.bit_exact;
    j["online_phase_s"] = m.online_phase_s;
    j["online_upload_bytes"] = m.online_upload_bytes;
    j["online_components"] = m.online_components;
    j["online_download_bytes"] = m.online_download_bytes;
    requests.push_back(std::move(j));
    if (!m.bit_exact) ++wrong;
  }
  const sim::RunStats stats = sim::request_stats(records, result.arrivals);
  const sim::RateSummary measured =
      sim::summarize_runs(opt.rate, opt.duration_s, opt.clients, {&stats});
  out["rates"] = nlohmann::json::array({sim::rate_summary_json(measured)});
  out["requests"] = std::move(requests);
  out["settings"] = {{"model", loaded.lowered.name},
                     {"protocol", opt.protocol},
                     {"clients", opt.clients},
                     {"rate", opt.rate},
                     {"client_storage_bytes", client_bytes},
                     {"server_storage_bytes", server_bytes},
                     {"uplink_mbps", opt.uplink_mbps},
                     {"downlink_mbps", opt.downlink_mbps},
                     {"duration_s", opt.duration_s},
                     {"seed", opt.seed},
                     {"policy", opt.policy},
                     {"poll_interval_s", opt.poll_interval_s},
                     {"transport", opt.insecure ? "tcp" : "tls1.3"},
                     {"links", opt.server.empty() ? "relay per client" : "paced by the client"},
                     {"server", opt.server.empty() ? "built-in (loopback)" : opt.server},
                     {"machine_cores", std::thread::hardware_concurrency()}};
  out["arrivals"] = result.arrivals;
  out["unserved"] = result.unserved;
  out["wrong_results"] = wrong;
  out["precomputes_made"] = result.precomputes_made;
  out["precompute_refusals"] = result.precompute_refusals;
  out["offline_phase_s"] = result.offline_phase_s;
  out["offline_phase_components"] = result.offline_phase_components;
  out["wall_s"] = result.wall_s;

  std::optional<nlohmann::json> simulated_rate;
  if (measured_profile) {
    sim::SystemConfig c;
    c.protocol = opt.protocol;
    c.clients = opt.clients;
    c.client_storage_bytes = client_bytes;
    c.server_storage_bytes = server_bytes;
    c.uplink_mbps = opt.uplink_mbps > 0 ? opt.uplink_mbps : kUnshapedMbps;
    c.downlink_mbps = opt.downlink_mbps > 0 ? opt.downlink_mbps : kUnshapedMbps;
    // Every party here runs its protocol steps on one thread per session, and all of them
    // share this machine's cores.
    c.client_threads = c.server_gc_threads = c.server_he_threads = 1;
    c.shared_cores = std::max(1u, std::thread::hardware_concurrency());
    c.mode = sim::SimMode::contended;
    c.policy = settings.policy;
    c.poll_interval_s = opt.poll_interval_s;
    c.sim_hours = opt.duration_s / 3600.0;
    c.drain = true;
    const sim::MultiClientResult sim_result =
        sim::simulate_clients(measured_profile->costs.costs, c, opt.rate, opt.seed);
    nlohmann::json sim_requests = nlohmann::json::array();
    for (const sim::RequestRecord& r : sim_result.requests) sim_requests.push_back(sim::to_json(r));
    simulated_rate = sim::rate_summary_json(sim_result.aggregate);
    out["simulated"] = {{"rates", nlohmann::json::array({*simulated_rate})},
                        {"requests", std::move(sim_requests)},
                        {"profile", sim::to_json(profile_of(*measured_profile, loaded, opt))}};
    out["simulated"]["offline_phase_alone_s"] = sim_result.plan.offline.seconds;
    out["simulated"]["online_phase_alone_s"] = sim_result.plan.online.seconds;
    out["simulated"]["offline_phase_s"] = sim_result.run.produced_phase_s;
    // The profile's offline phase per component, as offline_phase_components holds the loaded
    // ones: which component a loaded phase grew in.
    out["simulated"]["profile_offline_components"] = measured_profile->offline.offline.components;
    out["simulated"]["profile_offline_phase_s"] = measured_profile->offline.offline.seconds;
    out["simulated"]["profile_online_components"] = measured_profile->online.online.components;
    out["simulated"]["profile_online_phase_s"] = measured_profile->online.online.seconds;
    out["relative_error_mean"] =
        relative_error(sim_result.aggregate.mean_latency_s, measured.mean_latency_s);
    out["relative_error_p99"] =
        relative_error(sim_result.aggregate.p99_latency_s, measured.p99_latency_s);
  }
  if (!opt.out.empty()) std::ofstream(opt.out) << out.dump(2) << "\n";
  if (opt.json) {
    fmt::print("{}\n", out.dump(2));
  } else {
    fmt::print(
        "{} on {}: {} client(s) x {} requests/s for {} s, {} arrived, {} served, {} "
        "wrong\n",
        opt.protocol, loaded.lowered.name, opt.clients, opt.rate, opt.duration_s, result.arrivals,
        result.requests.size(), wrong);
    print_side_by_side(out["rates"][0], simulated_rate ? &*simulated_rate : nullptr);
  }
  if (wrong != 0) {
    throw ProtocolError(std::to_string(wrong) +
                        " private results differ from the fixed-point "
                        "engine");
  }
}

void setup(CLI::App& bench) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = bench.add_subcommand(
      "arrivals", "Real clients under Poisson arrivals against a server (and the simulator)");
  cmd->add_option("--model", opt->model, "Model: path.onnx or a built-in name")->required();
  cmd->add_option("--protocol", opt->protocol, "server-garbler or client-garbler");
  cmd->add_option("--clients", opt->clients, "Clients K")->check(CLI::Range(1u, 64u));
  cmd->add_option("--rate", opt->rate, "Requests/s per client (Poisson)")
      ->required()
      ->check(CLI::Range(1e-6, 1e3));
  cmd->add_option("--client-storage", opt->client_storage, "Each client's store, e.g. 100MB");
  cmd->add_option("--server-storage", opt->server_storage,
                  "The built-in server's store (each client a 1/K quota)");
  cmd->add_option("--uplink-mbps", opt->uplink_mbps, "Each client's uplink in Mbit/s (0 unshaped)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--downlink-mbps", opt->downlink_mbps,
                  "Each client's downlink in Mbit/s (0 unshaped)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--duration-s", opt->duration_s, "Arrivals during this long")
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--deadline-s", opt->deadline_s,
                  "Stop the run after this long in all (default 10 x duration)")
      ->check(CLI::Range(0.0, 864000.0));
  cmd->add_option("--seed", opt->seed, "Arrival seed (the simulator's run seed)");
  cmd->add_option("--policy", opt->policy, "Precompute policy: poll or eager");
  cmd->add_option("--poll-interval-s", opt->poll_interval_s, "Poll period of policy poll")
      ->check(CLI::Range(0.001, 3600.0));
  cmd->add_flag("--simulate", opt->simulate,
                "Measure a profile and print the simulator's figures beside the measured ones");
  cmd->add_flag("--json", opt->json, "Print one JSON object");
  cmd->add_option("--out", opt->out, "Also write the JSON object to this file");
  cmd->add_option("--work-dir", opt->work, "Where the stores go (default: a temporary folder)");
  auto* server = cmd->add_option("--server", opt->server,
                                 "Load a running `pinfer serve` (host:port) instead of the "
                                 "built-in server");
  add_client_security_options(*cmd, opt->security);
  add_gc_scheme_option(*cmd, opt->gc_scheme);
  add_threads_option(*cmd, opt->threads);
  // Flags that only act on the built-in server are refused with --server, not ignored.
  cmd->get_option("--server-storage")->excludes(server);
  cmd->get_option("--gc-scheme")->excludes(server);
  cmd->callback([opt] {
    if (opt->server.empty() && (!opt->security.ca.empty() || !opt->security.pin.empty())) {
      throw InvalidArgument("--ca and --pin check a server named by --server");
    }
    // Without --server, --insecure makes the built-in server speak plain TCP (loopback only).
    opt->insecure = opt->security.insecure && opt->server.empty();
    run(*opt);
  });
}

const CommandRegistration kRegistration("bench", "arrivals", &setup);

}  // namespace
}  // namespace pinfer::cli
