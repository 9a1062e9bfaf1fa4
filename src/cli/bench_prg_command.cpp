// `pinfer bench prg`: PRG (AES-128-CTR) throughput on one thread, per kernel path.
#include <chrono>
#include <vector>

#include "bench_table.hpp"
#include "command_registry.hpp"
#include "pinfer/core/aes.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer::cli {
namespace {

struct Options {
  bool json = false;
  int repeats = 5;
  std::size_t mbytes = 256;
};

// Median GB/s of filling `bytes` from the keystream on `path`.
double measure(CpuPath path, std::size_t bytes, int repeats) {
  const Aes128 aes(os_random_block());
  std::vector<Block> out(bytes / sizeof(Block));
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    aes.ctr_keystream_with(path, 0, 0, out);
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    rates.push_back(static_cast<double>(out.size() * sizeof(Block)) / dt.count() / 1e9);
  }
  return median(rates);
}

void setup(CLI::App& bench) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = bench.add_subcommand("prg", "PRG throughput (AES-128-CTR), GB/s on one thread");
  cmd->add_flag("--json", opt->json, "Print one JSON object");
  cmd->add_option("--repeats", opt->repeats, "Runs; the median is reported")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--mbytes", opt->mbytes, "Megabytes per run")->check(CLI::Range(1, 4096));
  cmd->callback([opt] {
    BenchTable table("PRG (AES-128 counter mode), one thread, median of " +
                     std::to_string(opt->repeats) + " runs");
    const std::size_t bytes = opt->mbytes << 20;
    const CpuPath active = aes_active_path();
    table.add_text("aes_path", to_string(active));
    table.add_value("prg_gbytes_per_s", measure(active, bytes, opt->repeats), "GB/s");
    for (CpuPath p : {CpuPath::vaes, CpuPath::aesni, CpuPath::openssl}) {
      if (!cpu_supports(p) || p == active) continue;
      table.add_value("prg_gbytes_per_s_" + std::string(to_string(p)),
                      measure(p, bytes, opt->repeats), "GB/s");
    }
    table.print(opt->json);
  });
}

const CommandRegistration kRegistration("bench", "prg", &setup);

}  // namespace
}  // namespace pinfer::cli
