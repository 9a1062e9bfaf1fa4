// `pinfer bench load`: many concurrent clients against one server, or against the N nodes of a
// fleet (`--cluster URL --nodes N`, docs/DEPLOYMENT.md). Each server is a child process
// (`/proc/self/exe serve` on an ephemeral loopback port, its own store; load_servers.hpp), so its
// peak memory is its own (VmHWM). Over TLS 1.3 unless --insecure. In a fleet, client c registers
// through node c % N (its home) and sends its k-th request to node (c + k) % N, which redirects
// it home unless that is the home; the fleet's ledger must show one precompute consumed per
// served request. C client threads, each with its own store and registered identity, run R
// private inferences in total through the library API (a session per request: connect,
// handshake, offline phase on demand or a stored precompute, online phase), each sending its
// next request as soon as the previous one returns (a closed loop). Beyond the server's
// --max-sessions a session waits in its admission queue (--queue); a full queue's refusal is
// counted and retried after the server's retry-after hint (protocol::retry_while_busy). A
// request's latency runs from its first attempt to its result (queueing and retries included).
// Every output is checked bit for bit against the fixed-point engine. The queueing ideal it
// prints is explained at sim::closed_loop_fifo_latencies().
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "bench_table.hpp"
#include "command_registry.hpp"
#include "data_dir.hpp"
#include "load_servers.hpp"
#include "pi_common.hpp"
#include "pinfer/cluster/cluster_state.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/admission.hpp"
#include "pinfer/sim/closed_loop_ideal.hpp"
#include "reveal_option.hpp"

namespace pinfer::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string model;   // empty: the shipped digits model (data_dir.hpp)
  std::string inputs;  // empty: its test images
  std::string protocol = "client-garbler";
  std::size_t clients = 8;
  std::size_t requests = 64;
  double time_limit_s = 60;
  std::size_t max_sessions = 16;
  std::size_t queue = 64;               // the server's --queue
  uint64_t queue_timeout_ms = 120'000;  // the server's --queue-timeout-ms
  uint64_t timeout_ms = 30'000;
  std::string client_quota;
  bool online_only = false;
  std::string work;
  std::string reveal = "logits";  // the server's --reveal
  std::string gc_scheme;          // the server's --gc-scheme
  unsigned threads = 0;           // the server's and each client's --threads
  std::string cluster;            // the fleet's database; "": one server
  std::size_t nodes = 1;
  bool insecure = false;  // plain TCP instead of TLS 1.3
  bool json = false;
};

struct Tally {
  std::mutex mu;
  std::vector<double> latencies_s;  // of served requests, from the first attempt to the result
  std::vector<double> queued_s;     // of served requests: time in the server's admission queue
  // Per client, in order: each served request's service time (from its admission, or from the
  // connect of the attempt that was admitted at once, to its result).
  std::vector<std::vector<double>> service_s;
  uint64_t queued_requests = 0;  // served requests that waited in the queue
  uint64_t refused_busy = 0;
  uint64_t dropped_unanswered = 0;  // closed by the server before any answer (shedding)
  uint64_t failed = 0;
  uint64_t wrong = 0;
  uint64_t redirects = 0;
  std::string first_failure;
};

// The server closed the connection before its first answer (InferenceService drops, without
// an answer, connections beyond max_refusals refusals in flight).
bool is_dropped(const std::exception& e) {
  const auto* error = dynamic_cast<const Error*>(&e);
  return error != nullptr && error->reason() == ErrorReason::peer_closed;
}

// The p-th percentile of sorted samples (the same rule for measured and ideal latencies).
double percentile(const std::vector<double>& sorted, double p) {
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()))];
}

void setup(CLI::App& bench) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = bench.add_subcommand(
      "load",
      "Concurrent clients against `pinfer serve` children (one server or a fleet): throughput, "
      "latency, memory");
  cmd->add_option("--model", opt->model, "Model the server serves (default: shipped digits)");
  cmd->add_option("--inputs", opt->inputs, "Inputs: .npy batch N x C x H x W (float32)");
  cmd->add_option("--protocol", opt->protocol, "server-garbler or client-garbler");
  add_reveal_option(*cmd, opt->reveal);  // the server's --reveal (default here: logits)
  cmd->add_option("--clients", opt->clients, "Concurrent clients")->check(CLI::Range(1, 1024));
  cmd->add_option("--requests", opt->requests, "Inferences in total")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--time-limit-s", opt->time_limit_s, "Stop starting requests after this")
      ->check(CLI::Range(1.0, 3600.0));
  cmd->add_option("--max-sessions", opt->max_sessions, "The server's --max-sessions")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--queue", opt->queue, "The server's --queue (admission queue places)")
      ->check(CLI::Range(0, 65536));
  cmd->add_option("--queue-timeout-ms", opt->queue_timeout_ms, "The server's --queue-timeout-ms")
      ->check(CLI::Range(1, 86'400'000));
  cmd->add_option("--timeout-ms", opt->timeout_ms, "The server's and clients' --timeout-ms")
      ->check(CLI::Range(100, 86'400'000));
  cmd->add_option("--client-quota", opt->client_quota, "The server's --client-quota");
  cmd->add_flag("--online-only", opt->online_only,
                "Make each client's precomputes before the clock starts; time online phases");
  cmd->add_option("--work", opt->work, "Directory for the stores (default: a fresh temp dir)");
  add_gc_scheme_option(*cmd, opt->gc_scheme);
  add_threads_option(*cmd, opt->threads);
  cmd->add_option("--cluster", opt->cluster,
                  "Run the servers as nodes of a fleet on this PostgreSQL database (a scratch "
                  "one: the bench initialises it and its nodes join as bench-load-<i>)");
  cmd->add_option("--nodes", opt->nodes, "Servers (fleet nodes; more than 1 needs --cluster)")
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--insecure", opt->insecure,
                "Plain TCP on loopback instead of TLS 1.3 (one certificate for every node, "
                "pinned by the clients)");
  cmd->add_flag("--json", opt->json, "Print one JSON object");
  cmd->callback([opt] {
    if (opt->model.empty()) opt->model = data_file("models/digits.onnx").string();
    if (opt->inputs.empty()) opt->inputs = data_file("models/digits_test_images.npy").string();
    const nn::LoadedModel model = nn::load_model(opt->model);
    const std::vector<FloatTensor> inputs = nn::split_batch(nn::read_npy_float(opt->inputs));
    if (inputs.empty()) throw InvalidArgument("--inputs holds no input");
    const bool own_work = opt->work.empty();
    const fs::path work =
        own_work ? fs::temp_directory_path() / ("pinfer-load-" + store::new_precompute_id())
                 : fs::path(opt->work);
    fs::create_directories(work);

    // The flags every node shares. Every output is checked bit-exact against the fixed-point
    // engine on the served model (--reveal).
    LoadServersOptions so;
    so.serve_args = {"--model",
                     opt->model,
                     "--protocol",
                     opt->protocol,
                     "--capacity",
                     "1TB",
                     "--max-sessions",
                     std::to_string(opt->max_sessions),
                     "--timeout-ms",
                     std::to_string(opt->timeout_ms),
                     "--queue",
                     std::to_string(opt->queue),
                     "--queue-timeout-ms",
                     std::to_string(opt->queue_timeout_ms),
                     "--reveal",
                     opt->reveal,
                     "--gc-scheme",
                     opt->gc_scheme,
                     "--threads",
                     std::to_string(opt->threads)};
    if (!opt->client_quota.empty())
      so.serve_args.insert(so.serve_args.end(), {"--client-quota", opt->client_quota});
    so.nodes = opt->nodes;
    so.cluster_url = opt->cluster;
    so.insecure = opt->insecure;
    so.work = work;
    LoadServers servers(so);
    const std::size_t nodes = servers.size();
    std::vector<uint64_t> idle_rss(nodes);
    for (std::size_t n = 0; n < nodes; ++n) idle_rss[n] = servers.peak_rss_bytes(n);
    // The fleet's ledger before the run: afterwards it must show one more precompute consumed
    // per served request.
    std::optional<cluster::ClusterState> fleet;
    uint64_t consumed_before = 0;
    if (!opt->cluster.empty()) {
      fleet.emplace(opt->cluster);
      consumed_before = fleet->status().precomputes.consumed;
    }

    // Each client: its own store, registered once through node c % N, its home (not timed).
    Tally tally;
    std::vector<ClientCommandOptions> clients(opt->clients);
    for (std::size_t c = 0; c < opt->clients; ++c) {
      ClientCommandOptions& co = clients[c];
      co.server = servers.endpoint(c % nodes);
      co.store = (work / ("client" + std::to_string(c))).string();
      co.protocol = opt->protocol;
      co.link.timeout_ms = opt->timeout_ms;
      co.security.insecure = opt->insecure;
      co.security.pin = servers.pin();
      co.threads = opt->threads;
      co.on_redirect = [&tally](const std::string&) {
        std::lock_guard lock(tally.mu);
        ++tally.redirects;
      };
      std::vector<std::string> reg = {"pinfer",  "client",  "register", "--server",
                                      co.server, "--store", co.store};
      if (opt->insecure) {
        reg.emplace_back("--insecure");
      } else {
        reg.insert(reg.end(), {"--pin", servers.pin()});
      }
      SelfProcess registration(reg, work / ("register" + std::to_string(c) + ".log"));
      if (registration.wait() != 0)
        throw IoError("pinfer client register failed; see " + work.string());
    }
    // Client c's k-th request goes to node (c + k) % N: its home, or a node that redirects it.
    auto entry = [&](std::size_t c, std::size_t k) {
      ClientCommandOptions o = clients[c];
      o.server = servers.endpoint((c + k) % nodes);
      return o;
    };
    // Shares of the requests: client c runs requests c, c + C, c + 2C, ...
    auto share = [&](std::size_t c) {
      return opt->requests / opt->clients + (c < opt->requests % opt->clients ? 1 : 0);
    };
    // Every refusal of a full queue is retried after the server's hint; the clients give up on
    // a request only after many refusals (the bench then fails, as for any other error).
    const auto retry_policy = [](Tally* tally) {
      protocol::RetryPolicy policy;
      policy.max_attempts = 1000;
      policy.max_wait_ms = 3'600'000;
      if (tally != nullptr) {
        policy.on_busy = [tally](const ServerBusyError&, uint64_t) {
          std::lock_guard lock(tally->mu);
          ++tally->refused_busy;
        };
      }
      return policy;
    };
    if (opt->online_only) {
      std::vector<std::thread> makers;
      for (std::size_t c = 0; c < opt->clients; ++c) {
        makers.emplace_back([&, c] {
          std::optional<ClientSession> s;
          (void)protocol::retry_while_busy([&] { s.emplace(open_client_session(entry(c, 0))); },
                                           retry_policy(nullptr));
          for (std::size_t made = 0; made < share(c); ++made) (void)s->client->precompute();
          s->client->close();
        });
      }
      for (auto& t : makers) t.join();
    }

    const nn::LoweredModel served_model = nn::apply_reveal(model.lowered, opt->reveal);
    std::vector<std::vector<uint64_t>> expected(inputs.size());
    std::mutex expected_mu;
    auto expect = [&](std::size_t i) {
      std::lock_guard lock(expected_mu);
      if (expected[i].empty()) {
        const RingTensor y =
            nn::run_fixed_point(served_model, nn::encode_input(served_model, inputs[i]));
        expected[i].assign(y.values().begin(), y.values().end());
      }
      return expected[i];
    };
    const auto t0 = Clock::now();
    const auto deadline = t0 + std::chrono::duration<double>(opt->time_limit_s);
    std::vector<std::thread> threads;
    tally.service_s.resize(opt->clients);
    for (std::size_t c = 0; c < opt->clients; ++c) {
      threads.emplace_back([&, c] {
        std::minstd_rand rng(static_cast<unsigned>(c + 1));  // back-off jitter, not secret
        for (std::size_t k = 0; k < share(c) && Clock::now() < deadline;) {
          const std::size_t input = (c + k * opt->clients) % inputs.size();
          const auto start = Clock::now();  // the request's first attempt
          std::optional<ClientSession> s;
          Clock::time_point admitted_from;  // the connect of the attempt that was admitted
          while (!s) {
            try {
              (void)protocol::retry_while_busy(
                  [&] {
                    admitted_from = Clock::now();
                    s.emplace(open_client_session(entry(c, k)));
                  },
                  retry_policy(&tally));
            } catch (const Error& e) {
              // Beyond the server's refusals in flight, a connection is closed unanswered: load
              // shedding too, retried after a short back-off.
              if (!is_dropped(e)) throw;
              std::lock_guard lock(tally.mu);
              ++tally.dropped_unanswered;
            }
            if (!s) std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 40));
          }
          try {
            const protocol::InferenceResult r = s->client->infer(inputs[input], !opt->online_only);
            s->client->close();
            const auto end = Clock::now();
            const auto queued = s->client->admission().queued_for;
            const bool right = r.logits_ring == expect(input);
            std::lock_guard lock(tally.mu);
            tally.latencies_s.push_back(std::chrono::duration<double>(end - start).count());
            tally.queued_s.push_back(std::chrono::duration<double>(queued).count());
            tally.queued_requests += s->client->admission().places_received > 0 ? 1 : 0;
            tally.service_s[c].push_back(
                std::chrono::duration<double>(end - admitted_from - queued).count());
            tally.wrong += right ? 0 : 1;
            ++k;
          } catch (const Error& e) {
            std::lock_guard lock(tally.mu);
            ++tally.failed;
            ++k;  // a failed request is not retried
            if (tally.first_failure.empty()) tally.first_failure = e.what();
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    const double wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    uint64_t peak_rss = 0, idle_rss_max = 0;
    for (std::size_t n = 0; n < nodes; ++n) {
      peak_rss = std::max(peak_rss, servers.peak_rss_bytes(n));
      idle_rss_max = std::max(idle_rss_max, idle_rss[n]);
    }
    const std::vector<LoadServers::Stopped> stopped = servers.stop();
    bool servers_ok = true;
    for (const auto& st : stopped) servers_ok = servers_ok && st.status == 0;
    // Single use across the fleet: one precompute consumed per served request, no more.
    uint64_t consumed = 0;
    if (fleet) consumed = fleet->status().precomputes.consumed - consumed_before;
    const bool ledger_ok = !fleet || consumed == tally.latencies_s.size();
    if (own_work) fs::remove_all(work);

    BenchTable table("bench load: " + opt->protocol + " on " + model.lowered.name + ", " +
                     std::to_string(opt->clients) + " clients, " +
                     (fleet ? std::to_string(nodes) + " fleet nodes" : std::string("1 server")) +
                     (opt->insecure ? " (plain TCP)" : " (TLS 1.3)") + ", max " +
                     std::to_string(opt->max_sessions) + " sessions, queue " +
                     std::to_string(opt->queue) +
                     (opt->online_only ? ", online phases only" : ", offline on demand"));
    const std::size_t served = tally.latencies_s.size();
    table.add_value("clients", static_cast<double>(opt->clients), "");
    table.add_value("requests", static_cast<double>(opt->requests), "");
    table.add_value("served", static_cast<double>(served), "");
    table.add_value("refused_busy", static_cast<double>(tally.refused_busy), "attempts");
    table.add_value("dropped_unanswered", static_cast<double>(tally.dropped_unanswered),
                    "attempts");
    table.add_value("failed", static_cast<double>(tally.failed), "");
    table.add_value("wrong_outputs", static_cast<double>(tally.wrong), "");
    if (fleet) {
      table.add_value("nodes", static_cast<double>(nodes), "");
      table.add_value("redirects", static_cast<double>(tally.redirects), "");
      table.add_value("fleet_precomputes_consumed", static_cast<double>(consumed), "");
    }
    table.add_value("seconds", wall_s, "s");
    if (served > 0) {
      table.add_value("refusals_per_request",
                      static_cast<double>(tally.refused_busy + tally.dropped_unanswered) /
                          static_cast<double>(served),
                      "");
      table.add_value("queued_requests", static_cast<double>(tally.queued_requests), "");
      table.add_rate("inferences_per_s", static_cast<double>(served), wall_s, "1/s");
      std::vector<double> lat = tally.latencies_s;
      std::sort(lat.begin(), lat.end());
      table.add_value("latency_p50_ms", percentile(lat, 0.50) * 1e3, "ms");
      table.add_value("latency_p99_ms", percentile(lat, 0.99) * 1e3, "ms");
      table.add_value("latency_max_ms", lat.back() * 1e3, "ms");
      std::vector<double> queued = tally.queued_s;
      std::sort(queued.begin(), queued.end());
      table.add_value("queue_wait_p50_ms", percentile(queued, 0.50) * 1e3, "ms");
      table.add_value("queue_wait_p99_ms", percentile(queued, 0.99) * 1e3, "ms");
      // The queueing ideal (sim::closed_loop_fifo_latencies): the same closed loop served by
      // max_sessions sessions at once per node (each node serving the clients whose home it is),
      // FCFS, without admission overhead; first with every request taking the mean service time
      // measured here, then with each taking its own measured time.
      double service_sum = 0;
      for (const auto& per_client : tally.service_s) {
        for (const double t : per_client) service_sum += t;
      }
      const double service_mean = service_sum / static_cast<double>(served);
      std::vector<double> ideal, replay;
      for (std::size_t n = 0; n < nodes; ++n) {
        std::vector<std::vector<double>> homed, at_mean;
        for (std::size_t c = n; c < opt->clients; c += nodes) {
          homed.push_back(tally.service_s[c]);
          at_mean.emplace_back(tally.service_s[c].size(), service_mean);
        }
        for (const double t : sim::closed_loop_fifo_latencies(at_mean, opt->max_sessions))
          ideal.push_back(t);
        for (const double t : sim::closed_loop_fifo_latencies(homed, opt->max_sessions))
          replay.push_back(t);
      }
      std::sort(ideal.begin(), ideal.end());
      std::sort(replay.begin(), replay.end());
      table.add_value("service_mean_ms", service_mean * 1e3, "ms");
      table.add_value("ideal_p99_ms", percentile(ideal, 0.99) * 1e3, "ms");
      table.add_value("p99_over_ideal", percentile(lat, 0.99) / percentile(ideal, 0.99), "");
      table.add_value("replay_ideal_p99_ms", percentile(replay, 0.99) * 1e3, "ms");
      table.add_value("p99_over_replay_ideal", percentile(lat, 0.99) / percentile(replay, 0.99),
                      "");
    }
    // In a fleet: the largest node's.
    table.add_value("server_idle_rss_mb", static_cast<double>(idle_rss_max) / 1e6, "MB");
    table.add_value("server_peak_rss_mb", static_cast<double>(peak_rss) / 1e6, "MB");
    for (std::size_t n = 0; n < nodes; ++n) {
      table.add_text(nodes == 1 ? std::string("server") : "node" + std::to_string(n),
                     stopped[n].summary.empty() ? "exit " + std::to_string(stopped[n].status)
                                                : stopped[n].summary);
    }
    if (!tally.first_failure.empty()) table.add_text("first_failure", tally.first_failure);
    table.print(opt->json);
    if (tally.failed != 0 || tally.wrong != 0 || !servers_ok || !ledger_ok) {
      throw Error("bench load: " + std::to_string(tally.failed) + " failed, " +
                  std::to_string(tally.wrong) + " wrong outputs" +
                  (servers_ok ? "" : ", a server exited with an error") +
                  (ledger_ok ? ""
                             : ", the fleet recorded " + std::to_string(consumed) +
                                   " precomputes consumed for " +
                                   std::to_string(tally.latencies_s.size()) + " inferences"));
    }
  });
}

const CommandRegistration kRegistration("bench", "load", &setup);

}  // namespace
}  // namespace pinfer::cli
