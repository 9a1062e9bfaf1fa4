// `pinfer simulate`: end-to-end PI latency under Poisson arrivals, from cost profiles.
//   pinfer simulate --profile paper:cifar10/resnet18 --protocol server-garbler ... [--json]
//   pinfer simulate scenario.json --out DIR
//   pinfer simulate convert-paper --input delphi_measurements.json --out profiles/
//   pinfer simulate plan --rate 0.001 --target-mean-s 120 --fleet-clients 100000 ...
// See docs/SIMULATOR.md.
#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "command_registry.hpp"
#include "data_dir.hpp"
#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/capped_read.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/sim/capacity_plan.hpp"
#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/one_off_run.hpp"
#include "pinfer/sim/paper_costs.hpp"
#include "pinfer/sim/profile_catalog.hpp"
#include "pinfer/sim/report.hpp"
#include "pinfer/sim/scenario.hpp"
#include "pinfer/sim/sweep.hpp"
#include "pinfer/sim/units.hpp"
#include "pinfer/sim/wireless_split.hpp"
#include "simulate_output.hpp"

namespace pinfer::cli {
namespace {

struct Options {
  std::string scenario;
  std::string profile = "paper:cifar10/resnet18";
  std::string protocol = "server-garbler";
  std::string client_storage = "16GB";
  std::string server_storage = "10000GB";
  double uplink_mbps = 500, downlink_mbps = 500;
  std::optional<double> wireless_total_mbps, uplink_share, search_split_at;
  uint32_t client_threads = 4, server_gc_threads = 32, server_he_threads = 1;
  uint32_t client_cores = 0, server_cores = 0;
  std::string he_model = "table";
  double he_speedup = 1, gc_speedup = 1, bandwidth_speedup = 1, client_device_factor = 1;
  std::string policy = "poll";
  double poll_interval_s = 1;
  std::string rates = std::string(sim::kDefaultRates);
  uint32_t runs = 30;
  double sim_hours = 24;
  std::string mode = "independent";
  uint64_t seed = 1;
  uint32_t threads = 0;
  bool json = false;
  std::string out;
  std::vector<std::string> profile_dirs;
  // Many clients per server.
  uint32_t clients = 1;
  std::string server_quota_per_client;  // "" = server storage / clients
  double server_uplink_mbps = 0, server_downlink_mbps = 0;
  uint32_t shared_cores = 0;
  bool drain = false;
};

struct PlanOptions {
  Options system;
  double rate = 0;
  std::optional<double> target_mean_s, target_p99_s;
  std::optional<uint64_t> fleet_clients;
  uint32_t max_clients = 100000;
};

struct ConvertOptions {
  std::string input;
  std::string out = "profiles";
  uint64_t evaluator_bytes_per_relu = 18248;
  uint64_t garbler_bytes_per_relu = 3590;
};

std::vector<std::string> search_dirs(const Options& o) {
  // The shipped profiles are found beside the binary (data_dir.hpp), not in the source tree.
  const std::optional<std::filesystem::path> data = find_data_dir();
  return sim::profile_search_dirs(o.profile_dirs, data ? data->string() : ".");
}

sim::SystemConfig config_from(const Options& o) {
  sim::SystemConfig c;
  c.protocol = sim::canonical_protocol_name(o.protocol);
  c.client_storage_bytes = parse_byte_size(o.client_storage, "--client-storage");
  c.server_storage_bytes = parse_byte_size(o.server_storage, "--server-storage");
  c.uplink_mbps = o.uplink_mbps;
  c.downlink_mbps = o.downlink_mbps;
  if (o.wireless_total_mbps.has_value() != o.uplink_share.has_value()) {
    throw InvalidArgument("--wireless-total-mbps and --uplink-share must be given together");
  }
  if (o.wireless_total_mbps) sim::apply_wireless_split(c, *o.wireless_total_mbps, *o.uplink_share);
  c.client_threads = o.client_threads;
  c.server_gc_threads = o.server_gc_threads;
  c.server_he_threads = o.server_he_threads;
  c.client_cores = o.client_cores;
  c.server_cores = o.server_cores;
  c.he_model = sim::parse_he_model(o.he_model, "--he-model");
  c.he_speedup = o.he_speedup;
  c.gc_speedup = o.gc_speedup;
  c.bandwidth_speedup = o.bandwidth_speedup;
  c.client_device_factor = o.client_device_factor;
  c.policy = sim::parse_policy(o.policy, "--policy");
  c.poll_interval_s = o.poll_interval_s;
  c.sim_hours = o.sim_hours;
  c.clients = o.clients;
  if (!o.server_quota_per_client.empty()) {
    c.server_quota_per_client_bytes =
        parse_byte_size(o.server_quota_per_client, "--server-quota-per-client");
  }
  c.server_uplink_mbps = o.server_uplink_mbps;
  c.server_downlink_mbps = o.server_downlink_mbps;
  c.shared_cores = o.shared_cores;
  c.drain = o.drain;
  sim::validate(c);
  return c;
}

void write_outputs(const std::string& dir, const nlohmann::json& results,
                   const std::vector<SeriesOutput>& outs) {
  write_text_file(dir, "results.json", results.dump(2) + "\n");
  std::string csv = sim::csv_header();
  for (const SeriesOutput& s : outs) csv += sim::csv_rows(s.label, s.config.mode, s.sweep);
  write_text_file(dir, "results.csv", csv);
}

void run_one_off(const Options& o) {
  const sim::CostProfile profile = sim::load_profile_spec(o.profile, search_dirs(o));
  sim::OneOffRequest request;
  request.config = config_from(o);
  if (o.mode == "both") {
    request.modes = {sim::SimMode::independent, sim::SimMode::contended};
  } else {
    request.modes = {sim::parse_mode(o.mode, "--mode")};
  }
  request.sweep.rates = sim::parse_rates(o.rates, "--rates");
  request.sweep.runs = o.runs;
  request.sweep.seed = o.seed;
  request.sweep.threads = o.threads;
  request.wireless_total_mbps = o.wireless_total_mbps;
  request.search_split_at = o.search_split_at;
  if (o.search_split_at && !o.wireless_total_mbps) {
    throw InvalidArgument("--search-split-at needs --wireless-total-mbps (and --uplink-share)");
  }
  const sim::OneOffRun run = sim::run_one_off(profile, request);
  const std::vector<SeriesOutput>& outs = run.series;
  const std::optional<sim::SplitSearchResult>& split = run.split;
  const nlohmann::json& results = run.results;

  if (o.json) {
    fmt::print("{}\n", sim::brief_results(results).dump(2));
  } else {
    for (const SeriesOutput& s : outs) print_series_table(s);
    if (split) {
      fmt::print(
          "best uplink share at {:.6g} requests/s of {:.6g} Mbit/s: {:.2f} ({:.1f} up / "
          "{:.1f} down), mean latency {:.2f} s\n",
          split->rate, split->total_mbps, split->best_uplink_share,
          split->total_mbps * split->best_uplink_share,
          split->total_mbps * (1 - split->best_uplink_share), split->best_mean_latency_s);
    }
  }
  if (!o.out.empty()) {
    write_outputs(o.out, results, outs);
    std::vector<const SeriesOutput*> all;
    for (const SeriesOutput& s : outs) all.push_back(&s);
    write_latency_plot(o.out, "latency", outs.front().label, all, PlotUnit::s, false);
    for (std::size_t i = 0; i < outs.size(); ++i) {
      write_breakdown_plot(o.out, "breakdown_" + std::string(sim::to_string(outs[i].config.mode)),
                           outs[i].label, outs[i], PlotUnit::s, false);
    }
    if (!o.json) fmt::print("wrote {}/results.json, results.csv and plots\n", o.out);
  }
}

void run_scenario(const Options& o) {
  const sim::Scenario sc = sim::load_scenario(o.scenario);
  std::map<std::string, sim::CostProfile> profiles;
  std::vector<SeriesOutput> outs;
  for (const sim::SeriesSpec& spec : sc.series) {
    auto it = profiles.find(spec.profile);
    if (it == profiles.end()) {
      it = profiles.emplace(spec.profile, sim::load_profile_spec(spec.profile, search_dirs(o)))
               .first;
    }
    SeriesOutput s;
    s.label = spec.label;
    s.profile = it->second.name;
    s.config = spec.config;
    s.plan = sim::plan_model(it->second.protocol(spec.config.protocol), spec.config);
    sim::SweepOptions sweep;
    sweep.rates = spec.rates;
    sweep.runs = spec.runs;
    sweep.seed = spec.seed;
    sweep.threads = o.threads;
    s.sweep = sim::run_sweep(s.plan, sweep);
    outs.push_back(std::move(s));
  }
  nlohmann::json results = {
      {"scenario", sc.name},
      {"description", sc.description},
      {"averaging", "means over runs of per-run means over completed requests"},
      {"series", nlohmann::json::array()}};
  for (const SeriesOutput& s : outs) results["series"].push_back(sim::to_json(s));
  std::vector<sim::SplitSearchResult> splits;
  for (const sim::SplitSearchSpec& ss : sc.split_searches) {
    for (std::size_t i = 0; i < sc.series.size(); ++i) {
      if (sc.series[i].label != ss.series) continue;
      const sim::SeriesSpec& spec = sc.series[i];
      auto split = sim::search_uplink_share(
          profiles.at(spec.profile).protocol(spec.config.protocol), spec.config, ss.total_mbps,
          ss.rate, spec.runs, spec.seed, o.threads);
      nlohmann::json j = sim::to_json(split);
      j["series"] = ss.series;
      results["split_searches"].push_back(j);
      splits.push_back(split);
    }
  }
  if (o.json) {
    fmt::print("{}\n", results.dump(2));
  } else {
    fmt::print("scenario {}: {}\n", sc.name, sc.description);
    for (const SeriesOutput& s : outs) print_series_table(s);
    for (std::size_t i = 0; i < splits.size(); ++i) {
      fmt::print(
          "split search ({}): best uplink share {:.2f} at {:.6g} requests/s, mean latency "
          "{:.2f} s\n",
          sc.split_searches[i].series, splits[i].best_uplink_share, splits[i].rate,
          splits[i].best_mean_latency_s);
    }
  }
  if (o.out.empty()) return;
  write_outputs(o.out, results, outs);
  const auto find = [&](const std::string& label) -> const SeriesOutput* {
    for (const SeriesOutput& s : outs) {
      if (s.label == label) return &s;
    }
    return nullptr;
  };
  std::vector<sim::PlotSpec> plots = sc.plots;
  if (plots.empty()) {
    sim::PlotSpec all;
    all.name = "latency";
    all.title = sc.name;
    plots.push_back(all);
    for (std::size_t i = 0; i < outs.size(); ++i) {
      sim::PlotSpec b;
      b.name = "breakdown_" + std::to_string(i);
      b.kind = sim::PlotKind::breakdown;
      b.title = outs[i].label;
      b.series = {outs[i].label};
      plots.push_back(b);
    }
  }
  for (const sim::PlotSpec& p : plots) {
    std::vector<const SeriesOutput*> chosen;
    for (const std::string& l : p.series) chosen.push_back(find(l));
    if (chosen.empty()) {
      for (const SeriesOutput& s : outs) chosen.push_back(&s);
    }
    const std::string title = p.title.empty() ? sc.name : p.title;
    if (p.kind == sim::PlotKind::latency) {
      write_latency_plot(o.out, p.name, title, chosen, parse_plot_unit(p.y_unit), p.stable_only);
    } else {
      write_breakdown_plot(o.out, p.name, title, *chosen.front(), parse_plot_unit(p.y_unit),
                           p.stable_only);
    }
  }
  if (!o.json)
    fmt::print("wrote {}/results.json, results.csv and {} plot(s)\n", o.out, plots.size());
}

void run_convert(const ConvertOptions& o) {
  sim::PaperConversionOptions opt;
  opt.evaluator_bytes_per_relu = o.evaluator_bytes_per_relu;
  opt.garbler_bytes_per_relu = o.garbler_bytes_per_relu;
  nlohmann::json published;
  {
    // Untrusted file: cap its size before reading (the published JSON is ~56 kB).
    constexpr std::size_t kMaxInputBytes = 64u << 20;
    const SecretBuffer<std::byte> raw = read_file_capped(o.input, kMaxInputBytes);
    const auto* text = reinterpret_cast<const char*>(raw.data());
    try {
      published = nlohmann::json::parse(text, text + raw.size());
    } catch (const nlohmann::json::parse_error& e) {
      throw FormatError("--input " + o.input + " is not valid JSON: " + e.what());
    }
  }
  const auto profiles = sim::convert_paper_measurements(published, opt);
  for (const sim::CostProfile& p : profiles) {
    const std::string file = o.out + "/paper/" + p.dataset + "/" + p.network + ".json";
    sim::save_cost_profile(p, file);
    // Round trip: what we ship must parse back to the same profile.
    if (sim::to_json(sim::load_cost_profile(file)) != sim::to_json(p)) {
      throw FormatError("profile " + file + " does not read back identically");
    }
    fmt::print("wrote {} ({})\n", file, p.name);
  }
}

// The system settings shared by one-off sweeps and `simulate plan`.
void add_system_options(CLI::App* cmd, Options& o) {
  cmd->add_option("--profile", o.profile, "Cost profile: paper:<dataset>/<network> or a file");
  cmd->add_option("--protocol", o.protocol, "server-garbler or client-garbler");
  cmd->add_option("--client-storage", o.client_storage, "Client precompute storage, e.g. 16GB");
  cmd->add_option("--server-storage", o.server_storage,
                  "Server precompute storage (total over its clients)");
  cmd->add_option("--uplink-mbps", o.uplink_mbps, "Uplink Mbit/s (each client's access link)");
  cmd->add_option("--downlink-mbps", o.downlink_mbps, "Downlink Mbit/s (each client's)");
  cmd->add_option("--wireless-total-mbps", o.wireless_total_mbps,
                  "Total wireless Mbit/s split by --uplink-share (overrides up/down)");
  cmd->add_option("--uplink-share", o.uplink_share, "Uplink fraction of the wireless total");
  cmd->add_option("--client-threads", o.client_threads, "Client threads");
  cmd->add_option("--server-gc-threads", o.server_gc_threads, "Server GC threads");
  cmd->add_option("--server-he-threads", o.server_he_threads,
                  "Server HE threads (layer-parallel HE above 1)");
  cmd->add_option("--client-cores", o.client_cores, "Contended mode: client cores (0: threads)");
  cmd->add_option("--server-cores", o.server_cores,
                  "Contended mode: server cores (0: largest server thread count)");
  cmd->add_option("--he-model", o.he_model, "HE threads model: table (measured) or lpt");
  cmd->add_option("--he-speedup", o.he_speedup, "Divide HE compute by this factor");
  cmd->add_option("--gc-speedup", o.gc_speedup, "Divide GC compute by this factor");
  cmd->add_option("--bandwidth-speedup", o.bandwidth_speedup, "Multiply all links by this");
  cmd->add_option("--client-device-factor", o.client_device_factor,
                  "Multiply client compute by this (slower device > 1)");
  cmd->add_option("--policy", o.policy, "Precompute policy: poll (published) or eager");
  cmd->add_option("--poll-interval", o.poll_interval_s, "Precompute poll interval (s)");
  cmd->add_option("--sim-hours", o.sim_hours, "Simulated hours per run");
  cmd->add_option("--seed", o.seed, "Seed (runs are reproducible)");
  cmd->add_option("--threads", o.threads, "Worker threads (0: all cores)");
  cmd->add_option("--profile-dir", o.profile_dirs,
                  "Directory holding paper/<dataset>/<network>.json (repeatable)");
  cmd->add_option("--clients", o.clients, "Clients sharing one server (1)");
  cmd->add_option("--server-quota-per-client", o.server_quota_per_client,
                  "Server storage per client, e.g. 100GB (default: server storage / clients)");
  cmd->add_option("--server-uplink-mbps", o.server_uplink_mbps,
                  "Contended mode: server's link for all clients' uploads (0: unlimited)");
  cmd->add_option("--server-downlink-mbps", o.server_downlink_mbps,
                  "Contended mode: server's link for all clients' downloads (0: unlimited)");
  cmd->add_option("--shared-cores", o.shared_cores,
                  "Contended mode: all parties' compute shares one pool of this many cores "
                  "(0: off)");
  cmd->add_flag("--drain", o.drain,
                "Stop arrivals at the horizon and run until every request has completed");
}

void print_point(const sim::CapacityPoint& p) {
  fmt::print("   {:>8} {:>11.2f} {:>11.2f} {:>11.1f} {:>6} {}\n", p.clients,
             p.summary.mean_latency_s, p.summary.p99_latency_s, p.summary.served,
             p.meets ? "yes" : "no", p.reason);
}

nlohmann::json point_json(const sim::CapacityPoint& p) {
  nlohmann::json j = sim::to_json(p.summary);
  j["clients"] = p.clients;
  j["meets_target"] = p.meets;
  if (!p.reason.empty()) j["reason"] = p.reason;
  return j;
}

void run_plan(const PlanOptions& po) {
  const Options& o = po.system;
  sim::SystemConfig config = config_from(o);
  config.mode = sim::parse_mode(o.mode, "--mode");
  if (po.target_mean_s.has_value() == po.target_p99_s.has_value()) {
    throw InvalidArgument("give exactly one of --target-mean-s and --target-p99-s");
  }
  if (config.clients != 1) {
    throw InvalidArgument("--clients does not apply to simulate plan: it searches the count");
  }
  const sim::CostProfile profile = sim::load_profile_spec(o.profile, search_dirs(o));
  sim::CapacityPlanOptions opt;
  opt.rate_per_client = po.rate;
  opt.metric = po.target_mean_s ? sim::LatencyMetric::mean : sim::LatencyMetric::p99;
  opt.target_s = po.target_mean_s ? *po.target_mean_s : *po.target_p99_s;
  opt.runs = o.runs;
  opt.seed = o.seed;
  opt.threads = o.threads;
  opt.max_clients = po.max_clients;
  opt.fleet_clients = po.fleet_clients;
  const sim::CapacityPlan plan = sim::plan_capacity(profile.protocol(config.protocol), config, opt);

  if (po.system.json) {
    nlohmann::json j = {
        {"profile", profile.name},
        {"config", sim::to_json(config)},
        {"rate_per_client", opt.rate_per_client},
        {"target", {{"metric", sim::to_string(opt.metric)}, {"seconds", opt.target_s}}},
        {"runs", opt.runs},
        {"seed", opt.seed},
        {"max_clients_per_server", plan.max_clients_per_server},
        {"hit_search_limit", plan.hit_search_limit},
        {"server_quota_per_client_bytes", plan.server_quota_per_client_bytes},
        {"server_storage_per_server_bytes", plan.server_storage_per_server_bytes}};
    j["at_max"] = plan.at_max ? point_json(*plan.at_max) : nlohmann::json(nullptr);
    j["above_max"] = plan.above_max ? point_json(*plan.above_max) : nlohmann::json(nullptr);
    j["evaluated"] = nlohmann::json::array();
    for (const auto& p : plan.evaluated) j["evaluated"].push_back(point_json(p));
    if (plan.fleet_clients) {
      j["fleet"] = {{"clients", *plan.fleet_clients},
                    {"servers", plan.servers},
                    {"clients_per_server", plan.clients_per_server},
                    {"server_storage_bytes", plan.fleet_server_storage_bytes},
                    {"point", point_json(*plan.fleet_point)}};
    }
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("== capacity plan: {} {} [{}], {:.6g} requests/s per client, target {} <= {:.6g} s\n",
             profile.name, config.protocol, sim::to_string(config.mode), opt.rate_per_client,
             sim::to_string(opt.metric), opt.target_s);
  fmt::print("   {:>8} {:>11} {:>11} {:>11} {:>6} {}\n", "clients", "mean_s", "p99_s", "served/run",
             "meets", "why not");
  for (const auto& p : plan.evaluated) print_point(p);
  if (plan.max_clients_per_server == 0) {
    fmt::print("   not even one client per server meets the target\n");
    return;
  }
  fmt::print("   most clients per server: {}{}; server quota per client {}, server storage {}\n",
             plan.max_clients_per_server,
             plan.hit_search_limit ? " (search limit --max-clients reached)" : "",
             format_byte_size(static_cast<double>(plan.server_quota_per_client_bytes)),
             format_byte_size(static_cast<double>(plan.server_storage_per_server_bytes)));
  if (plan.fleet_clients) {
    fmt::print(
        "   fleet of {} clients: {} servers ({} clients on the fullest), server storage {} in "
        "total; at {} clients: mean {:.2f} s, p99 {:.2f} s\n",
        *plan.fleet_clients, plan.servers, plan.clients_per_server,
        format_byte_size(static_cast<double>(plan.fleet_server_storage_bytes)),
        plan.clients_per_server, plan.fleet_point->summary.mean_latency_s,
        plan.fleet_point->summary.p99_latency_s);
  }
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "simulate", "End-to-end PI latency under Poisson arrivals (discrete-event simulation)");
  cmd->add_option("scenario", o->scenario, "Scenario JSON file (docs/SIMULATOR.md)");
  add_system_options(cmd, *o);
  cmd->add_option("--search-split-at", o->search_split_at,
                  "Search the uplink share minimising mean latency at this rate (requests/s)");
  cmd->add_option("--rates", o->rates, "Arrival rates (per client) a:b:n (linspace) or r1,r2,...");
  cmd->add_option("--runs", o->runs, "Independent runs per rate")->check(CLI::Range(1, 100000));
  cmd->add_option("--mode", o->mode, "independent, contended or both");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->add_option("--out", o->out, "Write results.json, results.csv and plots to this directory");

  auto po = std::make_shared<PlanOptions>();
  po->system.mode = "contended";
  po->system.runs = 3;
  CLI::App* plan = cmd->add_subcommand(
      "plan", "Most clients one server holds under a latency target; servers for a fleet");
  add_system_options(plan, po->system);
  plan->add_option("--rate", po->rate, "Arrival rate per client, requests/s")->required();
  plan->add_option("--target-mean-s", po->target_mean_s, "Target: mean latency <= this (s)");
  plan->add_option("--target-p99-s", po->target_p99_s, "Target: p99 latency <= this (s)");
  plan->add_option("--fleet-clients", po->fleet_clients,
                   "Also size a fleet of this many clients (identical servers)");
  plan->add_option("--max-clients", po->max_clients, "Search limit per server (100000)")
      ->check(CLI::Range(1u, sim::kMaxClients));
  plan->add_option("--runs", po->system.runs, "Runs per evaluated client count (3)")
      ->check(CLI::Range(1, 100000));
  plan->add_option("--mode", po->system.mode, "contended (default) or independent");
  plan->add_flag("--json", po->system.json, "Print one JSON object");
  plan->callback([po] { run_plan(*po); });

  auto c = std::make_shared<ConvertOptions>();
  CLI::App* conv = cmd->add_subcommand(
      "convert-paper", "Convert the published Delphi measurements into cost profiles");
  conv->add_option("--input", c->input, "delphi_measurements.json")->required();
  conv->add_option("--out", c->out, "Profile directory (writes paper/<dataset>/<network>.json)");
  conv->add_option("--evaluator-bytes-per-relu", c->evaluator_bytes_per_relu,
                   "Stored GC bytes per ReLU on the evaluating side");
  conv->add_option("--garbler-bytes-per-relu", c->garbler_bytes_per_relu,
                   "Stored GC bytes per ReLU on the garbling side");
  conv->callback([c] { run_convert(*c); });

  cmd->callback([cmd, o] {
    if (cmd->got_subcommand("convert-paper") || cmd->got_subcommand("plan")) return;
    if (!o->scenario.empty()) {
      // A scenario carries its own settings; silently ignoring a flag would mislead.
      for (const char* name : {"--profile",
                               "--protocol",
                               "--client-storage",
                               "--server-storage",
                               "--uplink-mbps",
                               "--downlink-mbps",
                               "--wireless-total-mbps",
                               "--uplink-share",
                               "--search-split-at",
                               "--client-threads",
                               "--server-gc-threads",
                               "--server-he-threads",
                               "--client-cores",
                               "--server-cores",
                               "--he-model",
                               "--he-speedup",
                               "--gc-speedup",
                               "--bandwidth-speedup",
                               "--client-device-factor",
                               "--policy",
                               "--poll-interval",
                               "--rates",
                               "--runs",
                               "--sim-hours",
                               "--mode",
                               "--seed",
                               "--clients",
                               "--server-quota-per-client",
                               "--server-uplink-mbps",
                               "--server-downlink-mbps",
                               "--shared-cores",
                               "--drain"}) {
        if (cmd->get_option(name)->count() > 0) {
          throw InvalidArgument(std::string(name) +
                                " applies to one-off runs; set it in the scenario file instead");
        }
      }
      run_scenario(*o);
    } else {
      run_one_off(*o);
    }
  });
}

const CommandRegistration kRegistration("", "simulate", &setup);

}  // namespace
}  // namespace pinfer::cli
