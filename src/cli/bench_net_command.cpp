// `pinfer bench net`: TcpChannel throughput over loopback (one sender, one receiver thread).
#include <time.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <thread>
#include <vector>

#include "bench_table.hpp"
#include "command_registry.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/transport/link_relay.hpp"
#include "pinfer/transport/tcp_channel.hpp"
#include "pinfer/transport/tcp_listener.hpp"

namespace pinfer::cli {
namespace {

struct Options {
  bool json = false;
  int repeats = 5;
  std::size_t mbytes = 2048;
  std::size_t frame_kbytes = 4096;
  double send_mbps = 0;  // 0: the sender is not paced
  double recv_mbps = 0;  // 0: the receiver is not paced
  bool relay = false;    // pace through a transport::LinkRelay instead of inside the channels
};

struct Run {
  uint64_t bytes_received = 0;  // counted by the receiving channel, headers included
  double seconds = 0;
  double cpu_seconds = 0;  // of the whole process: sender and receiver together
};

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// One transfer of `frames` frames of `frame_bytes` from a client to a listener's channel.
// With send_mbps / recv_mbps the sender's writes / the receiver's reads are paced as an emulated
// link paces them (net/token_bucket.hpp), to see how close to the set rate a shaped link runs.
// With `relay`, both rates apply to a relay between them instead (send_mbps the sender's
// direction).
Run transfer(std::size_t frame_bytes, std::size_t frames, double send_mbps, double recv_mbps,
             bool relay) {
  transport::TcpOptions options;
  options.max_frame_bytes = frame_bytes;
  transport::TcpOptions receiver = options;
  if (!relay) receiver.recv_rate_mbps = recv_mbps;
  transport::TcpListener listener("127.0.0.1", 0, receiver);
  transport::TcpOptions sender_options = options;
  if (!relay) sender_options.send_rate_mbps = send_mbps;
  std::optional<transport::LinkRelay> link;
  if (relay) link.emplace("127.0.0.1", listener.port(), send_mbps, recv_mbps);
  auto client = transport::TcpChannel::connect_plaintext_loopback(
      "127.0.0.1", link ? link->port() : listener.port(), sender_options);
  auto server = listener.accept(10'000);

  std::vector<std::byte> out(frame_bytes);
  Prg().fill_bytes(out);  // incompressible, though TCP does not compress
  std::vector<std::byte> in(frame_bytes);
  const double cpu0 = process_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::thread sender([&] {
    for (std::size_t i = 0; i < frames; ++i) client->send(1, out);
    client->flush();
  });
  for (std::size_t i = 0; i < frames; ++i) server->recv_exact(1, in);
  const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  sender.join();
  const double cpu = process_cpu_seconds() - cpu0;
  PINFER_ASSERT(in == out);
  return {server->traffic().total.bytes_received, dt.count(), cpu};
}

void setup(CLI::App& bench) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd =
      bench.add_subcommand("net", "TCP channel throughput over loopback, GB/s (10^9 bytes/s)");
  cmd->add_flag("--json", opt->json, "Print one JSON object");
  cmd->add_option("--repeats", opt->repeats, "Runs; the median is reported")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--mbytes", opt->mbytes, "Mebibytes per run")->check(CLI::Range(1, 65536));
  cmd->add_option("--frame-kbytes", opt->frame_kbytes, "Frame payload in KiB")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--send-mbps", opt->send_mbps, "Pace the sender as a link of this rate")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--recv-mbps", opt->recv_mbps, "Pace the receiver's reads at this rate")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_flag("--relay", opt->relay,
                "Pace through a link relay (transport/link_relay.hpp): --send-mbps its forward "
                "direction, --recv-mbps the other");
  cmd->callback([opt] {
    const std::size_t frame_bytes = opt->frame_kbytes << 10;
    const std::size_t frames = std::max<std::size_t>(1, (opt->mbytes << 20) / frame_bytes);
    std::vector<double> rates;
    std::vector<double> cpu_rates;
    uint64_t bytes = 0;
    for (int r = 0; r < opt->repeats; ++r) {
      const Run run = transfer(frame_bytes, frames, opt->send_mbps, opt->recv_mbps, opt->relay);
      // The receiver counted every byte it read; check it against the frames sent.
      PINFER_ASSERT(run.bytes_received == frames * (frame_bytes + kFrameHeaderBytes));
      bytes = run.bytes_received;
      rates.push_back(static_cast<double>(run.bytes_received) / run.seconds / 1e9);
      cpu_rates.push_back(static_cast<double>(run.bytes_received) / run.cpu_seconds / 1e9);
    }
    BenchTable table("TCP channel over loopback, " + std::to_string(frames) + " frames of " +
                     std::to_string(opt->frame_kbytes) + " KiB, median of " +
                     std::to_string(opt->repeats) + " runs");
    table.add_value("tcp_gbytes_per_s", median(rates), "GB/s");
    // Bytes per CPU-second of both ends together: the cost of the transport itself, which
    // stays meaningful on a machine busy with other work (where wall-clock rates drop).
    table.add_value("tcp_gbytes_per_cpu_s", median(cpu_rates), "GB/s");
    table.add_value("bytes_per_run", static_cast<double>(bytes), "B");
    const double set = opt->relay ? (opt->send_mbps > 0 ? opt->send_mbps : HUGE_VAL)
                                  : std::min(opt->send_mbps > 0 ? opt->send_mbps : HUGE_VAL,
                                             opt->recv_mbps > 0 ? opt->recv_mbps : HUGE_VAL);
    if (std::isfinite(set)) {
      // The shaped rate reached, as a share of the slower pacing set (1.0: exactly the rate).
      table.add_value("rate_of_set_link", median(rates) * 8e3 / set, "");
    }
    table.print(opt->json);
  });
}

const CommandRegistration kRegistration("bench", "net", &setup);

}  // namespace
}  // namespace pinfer::cli
