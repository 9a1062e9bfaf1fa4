// `pinfer bench ot`: IKNP correlated-OT throughput with one thread per party, bytes per OT,
// and the cost of the 128 base OTs. Both parties run in this process, over loopback TCP when
// the transport layer is built (--transport tcp, the default then) or the in-memory channel pair.
// Outputs are checked (out = k0 ^ b * Delta for every OT) before anything is printed.
#include <time.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_table.hpp"
#include "command_registry.hpp"
#include "pinfer/core/channel.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/ot/bit_transpose.hpp"
#include "pinfer/ot/cot.hpp"
#include "pinfer/ot/random_ot.hpp"

#if __has_include("pinfer/transport/tcp_listener.hpp")
#include "pinfer/transport/tcp_listener.hpp"
#define PINFER_BENCH_OT_HAS_TCP 1
#else
#define PINFER_BENCH_OT_HAS_TCP 0
#endif

namespace pinfer::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  bool json = false;
  int repeats = 5;
  std::size_t n = std::size_t{1} << 24;
  std::string transport = PINFER_BENCH_OT_HAS_TCP ? "tcp" : "memory";
};

using ChannelPair = std::pair<std::unique_ptr<Channel>, std::unique_ptr<Channel>>;

ChannelPair connect(const std::string& transport) {
  if (transport == "memory") return make_memory_channel_pair();
#if PINFER_BENCH_OT_HAS_TCP
  if (transport == "tcp") {
    transport::TcpListener listener("127.0.0.1", 0);
    std::unique_ptr<Channel> client;
    std::thread t([&] {
      client = transport::TcpChannel::connect_plaintext_loopback("127.0.0.1", listener.port());
    });
    std::unique_ptr<Channel> server = listener.accept(10'000);
    t.join();
    return {std::move(server), std::move(client)};
  }
#endif
  throw InvalidArgument("--transport '" + transport + "' is not available in this build");
}

// CPU seconds used by the calling thread so far (user + system, so socket work counts).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct PartyTimes {
  double wall_s = 0;
  double sender_cpu_s = 0;
  double receiver_cpu_s = 0;
};

// Runs `sender` on a second thread and `receiver` here. The CPU times show what each party
// costs on its own core, independent of other load on a shared machine.
PartyTimes run_parties(const std::function<void()>& sender, const std::function<void()>& receiver) {
  std::exception_ptr err;
  PartyTimes times;
  const auto t0 = Clock::now();
  std::thread t([&] {
    const double c0 = thread_cpu_seconds();
    try {
      sender();
    } catch (...) {
      err = std::current_exception();
    }
    times.sender_cpu_s = thread_cpu_seconds() - c0;
  });
  const double c0 = thread_cpu_seconds();
  receiver();
  times.receiver_cpu_s = thread_cpu_seconds() - c0;
  t.join();
  const std::chrono::duration<double> dt = Clock::now() - t0;
  times.wall_s = dt.count();
  if (err) std::rethrow_exception(err);
  return times;
}

void setup(CLI::App& bench) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = bench.add_subcommand(
      "ot", "IKNP correlated OT per second (one thread per party) and bytes per OT");
  cmd->add_flag("--json", opt->json, "Print one JSON object");
  cmd->add_option("--repeats", opt->repeats, "Runs; the median is reported")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--n", opt->n, "OTs per run")->check(CLI::Range(1 << 10, 1 << 26));
  cmd->add_option("--transport", opt->transport, "tcp (loopback, if built) or memory");
  cmd->callback([opt] {
    const std::size_t n = opt->n;
    auto [a, b] = connect(opt->transport);  // a: COT sender, b: COT receiver
    Prg prg_s, prg_r;
    const Delta delta = Delta::random();
    // Each side runs its base OTs while constructing, so the two are constructed together.
    std::optional<ot::CotSender> sender;
    std::optional<ot::CotReceiver> receiver;
    const double setup_s =
        run_parties([&] { sender.emplace(*a, delta, prg_s); }, [&] { receiver.emplace(*b, prg_r); })
            .wall_s;
    const uint64_t setup_bytes = a->traffic().total.bytes_sent + b->traffic().total.bytes_sent;

    std::vector<Block> k0(n), out(n), m1(n);
    std::vector<uint8_t> choices(n);
    prg_r.fill_bits(choices);
    std::vector<double> cot_rates, rot_rates, sender_cpu_rates, receiver_cpu_rates;
    uint64_t ots_done = 0;
    const uint64_t bytes_before = a->traffic().total.bytes_sent + b->traffic().total.bytes_sent;
    for (int r = 0; r < opt->repeats; ++r) {
      const PartyTimes t =
          run_parties([&] { sender->extend(k0); }, [&] { receiver->extend(choices, out); });
      ots_done += n;
      for (std::size_t j = 0; j < n; ++j) {
        if (out[j] != (k0[j] ^ (Block::mask_of(choices[j]) & delta))) {
          throw Error("COT output " + std::to_string(j) + " is wrong");
        }
      }
      cot_rates.push_back(static_cast<double>(n) / t.wall_s);
      sender_cpu_rates.push_back(static_cast<double>(n) / t.sender_cpu_s);
      receiver_cpu_rates.push_back(static_cast<double>(n) / t.receiver_cpu_s);
    }
    const uint64_t cot_bytes =
        a->traffic().total.bytes_sent + b->traffic().total.bytes_sent - bytes_before;
    for (int r = 0; r < opt->repeats; ++r) {
      const double dt = run_parties([&] { ot::rot_send(*sender, k0, m1); },
                                    [&] { ot::rot_receive(*receiver, choices, out); })
                            .wall_s;
      for (std::size_t j = 0; j < n; ++j) {
        if (out[j] != (choices[j] ? m1[j] : k0[j])) {
          throw Error("random OT output " + std::to_string(j) + " is wrong");
        }
      }
      rot_rates.push_back(static_cast<double>(n) / dt);
    }

    BenchTable table("IKNP OT extension, one thread per party, " + opt->transport + " channel, " +
                     std::to_string(n) + " OTs per run, median of " + std::to_string(opt->repeats) +
                     " runs");
    table.add_text("transport", opt->transport);
    table.add_text("transpose_path", ot::to_string(ot::transpose_active_path()));
    table.add_value("cot_per_s", median(cot_rates), "COT/s");
    table.add_value("bytes_per_cot", static_cast<double>(cot_bytes) / static_cast<double>(ots_done),
                    "B");
    table.add_value("cot_per_sender_cpu_s", median(sender_cpu_rates), "COT/s");
    table.add_value("cot_per_receiver_cpu_s", median(receiver_cpu_rates), "COT/s");
    table.add_value("rot_per_s", median(rot_rates), "ROT/s");
    table.add_value("base_ot_setup_ms", setup_s * 1e3, "ms");
    table.add_value("base_ot_setup_bytes", static_cast<double>(setup_bytes), "B");
    table.print(opt->json);
  });
}

const CommandRegistration kRegistration("bench", "ot", &setup);

}  // namespace
}  // namespace pinfer::cli
