// `pinfer bench gc`: garbling and evaluation throughput (AND gates per second) of half-gates or
// three-halves on the ReLU-step circuit, on one or several threads, and garbled bytes per ReLU /
// max-pool window, all counted from what the kernels report (GarbleStats).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "bench_table.hpp"
#include "command_registry.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/gc/half_gates.hpp"
#include "pinfer/gc/labels.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"

namespace pinfer::cli {
namespace {

struct Options {
  bool json = false;
  int repeats = 5;
  unsigned ring_bits = 32;
  unsigned frac_bits = 8;
  uint64_t instances = 1 << 15;
  std::string scheme = "half-gates";
  unsigned threads = 1;
};

// Discards the tables (counting them), so the garbling figure is the kernel's, not memcpy's.
class CountingSink final : public ByteSink {
 public:
  void write(std::span<const std::byte> bytes) override { bytes_ += bytes.size(); }
  uint64_t bytes_ = 0;
};

// CPU time of this thread: the one-thread figures are per core, and on a shared machine wall
// time also counts the time other processes hold the core. Wall time is reported beside it.
// With several threads the calling thread's CPU time misses the workers', so wall time is used.
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// CPU time of all threads of the process: with several threads, AND gates per process-CPU
// second is the per-core efficiency, whatever share of the cores the machine grants.
double process_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timing {
  uint64_t and_gates = 0;  // per run, as counted by the kernels
  double cpu_s = 0;        // median over runs
  double wall_s = 0;
  double process_s = 0;
};

struct Measurement {
  Timing garble, eval;
  double table_bytes_per_instance = 0;  // three-halves: fractional (5 control bits per AND)
};

// Garbles and evaluates `instances` copies of `nl` on `path`, `repeats` times; checks the
// kernels' gate counts against the circuit and the decoded outputs against plaintext.
Measurement measure(const gc::NonlinearCircuit& nl, uint64_t instances, int repeats,
                    gc::GcOptions opt) {
  const bool one_thread = opt.threads == 1;
  // One key and coin seed for all runs, so every re-garbling reproduces the stream that is
  // evaluated (and its output labels decode it).
  opt.hash_key = os_random_block();
  opt.coin_seed = os_random_block();
  const auto cpu_seconds = [&] { return one_thread ? thread_seconds() : wall_seconds(); };
  const gc::Circuit& c = nl.circuit;
  const Delta delta = Delta::random();
  std::vector<Block> zero(instances * c.num_inputs()), active(zero.size());
  gc::LabelDeriver(os_random_block(), 0).zero_labels(0, zero);
  std::vector<uint8_t> bits(zero.size());
  Prg().fill_bits(bits);
  gc::active_labels(zero, bits, delta, active);
  std::vector<Block> out_zero(instances * c.num_outputs()), out(out_zero.size());
  const uint64_t expected_ands = instances * c.and_count();

  MemoryByteSink stream;
  stream.mutable_bytes().reserve(gc::garbled_stream_bytes(c, instances, opt.scheme));
  const gc::GarbleStats first = gc::garble_batch(c, zero, delta, 0, stream, out_zero, opt);
  PINFER_ASSERT(first.instances == instances);
  Measurement m;
  m.table_bytes_per_instance =
      static_cast<double>(first.table_bytes) / static_cast<double>(instances);

  std::vector<double> g_cpu, g_wall, e_cpu, e_wall, g_proc, e_proc;
  for (int i = 0; i < repeats; ++i) {
    CountingSink sink;
    const double t0 = cpu_seconds(), w0 = wall_seconds(), p0 = process_seconds();
    const gc::GarbleStats g = gc::garble_batch(c, zero, delta, 0, sink, out_zero, opt);
    g_cpu.push_back(cpu_seconds() - t0);
    g_proc.push_back(process_seconds() - p0);
    g_wall.push_back(wall_seconds() - w0);
    PINFER_ASSERT(g.and_gates == expected_ands && sink.bytes_ == g.stream_bytes);
    m.garble.and_gates = g.and_gates;

    MemoryByteSource source(stream.bytes());
    const double t1 = cpu_seconds(), w1 = wall_seconds(), p1 = process_seconds();
    const gc::GarbleStats e = gc::evaluate_batch(c, active, 0, source, out, opt);
    e_cpu.push_back(cpu_seconds() - t1);
    e_proc.push_back(process_seconds() - p1);
    e_wall.push_back(wall_seconds() - w1);
    PINFER_ASSERT(e.and_gates == expected_ands);
    m.eval.and_gates = e.and_gates;
  }
  // The evaluation must decode to the plaintext circuit, or the figures mean nothing.
  std::vector<uint8_t> decode(out.size()), got(out.size()), want(c.num_outputs());
  gc::decode_bits(out_zero, decode);
  gc::decode_outputs(out, decode, got);
  for (uint64_t i = 0; i < instances; i += 97) {
    c.evaluate_plain(std::span(bits).subspan(i * c.num_inputs(), c.num_inputs()), want);
    PINFER_ASSERT(std::equal(want.begin(), want.end(), got.begin() + i * c.num_outputs()));
  }
  m.garble.cpu_s = median(g_cpu);
  m.garble.wall_s = median(g_wall);
  m.eval.cpu_s = median(e_cpu);
  m.eval.wall_s = median(e_wall);
  m.garble.process_s = median(g_proc);
  m.eval.process_s = median(e_proc);
  return m;
}

void add_rates(BenchTable& table, const Measurement& m, const std::string& suffix) {
  const auto ands = [](const Timing& t) { return static_cast<double>(t.and_gates); };
  table.add_rate("garble_and_per_s" + suffix, ands(m.garble), m.garble.cpu_s, "AND/s");
  table.add_rate("eval_and_per_s" + suffix, ands(m.eval), m.eval.cpu_s, "AND/s");
  table.add_rate("garble_and_per_s_wall" + suffix, ands(m.garble), m.garble.wall_s, "AND/s");
  table.add_rate("eval_and_per_s_wall" + suffix, ands(m.eval), m.eval.wall_s, "AND/s");
  table.add_rate("garble_and_per_process_cpu_s" + suffix, ands(m.garble), m.garble.process_s,
                 "AND/s");
  table.add_rate("eval_and_per_process_cpu_s" + suffix, ands(m.eval), m.eval.process_s, "AND/s");
}

void setup(CLI::App& bench) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = bench.add_subcommand(
      "gc",
      "Garbling/evaluation (half-gates or three-halves), AND gates per second, bytes per ReLU");
  cmd->add_flag("--json", opt->json, "Print one JSON object");
  cmd->add_option("--repeats", opt->repeats, "Runs; the median is reported")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--l", opt->ring_bits, "Ring bits l")->check(CLI::Range(2, 64));
  cmd->add_option("--f", opt->frac_bits, "Fractional bits f")->check(CLI::Range(0, 62));
  cmd->add_option("--instances", opt->instances, "ReLU instances per run")
      ->check(CLI::Range(1, 1 << 22));
  cmd->add_option("--scheme", opt->scheme, "Garbling scheme: half-gates or three-halves");
  cmd->add_option("--threads", opt->threads, "Threads per garble/evaluate call")
      ->check(CLI::Range(1, 256));
  cmd->callback([opt] {
    const gc::NonlinearCircuit relu = gc::relu_step_circuit(opt->ring_bits, opt->frac_bits);
    gc::GcOptions gco;
    gco.scheme = gc::parse_gc_scheme(opt->scheme);
    gco.threads = opt->threads;
    BenchTable table(std::string(gc::to_string(gco.scheme)) +
                     " garbling (TMMO hash, AES key fresh per call), ReLU step l=" +
                     std::to_string(opt->ring_bits) + " f=" + std::to_string(opt->frac_bits) +
                     ", " + std::to_string(opt->threads) +
                     " thread(s); rates per thread-CPU second with one thread, per wall second "
                     "with more (_wall: per wall second), median of " +
                     std::to_string(opt->repeats) + " runs");
    const CpuPath active = gc::gc_active_path();
    table.add_text("gc_path", to_string(active));
    table.add_text("scheme", gc::to_string(gco.scheme));
    table.add_value("threads", static_cast<double>(opt->threads), "");
    const Measurement m = measure(relu, opt->instances, opt->repeats, gco);
    add_rates(table, m, "");
    table.add_value("relu_and_gates", static_cast<double>(m.garble.and_gates / opt->instances),
                    "AND");
    table.add_value("relu_bytes", m.table_bytes_per_instance, "B");
    // Bytes per ReLU at l = 32 and 37 (same f), and per 2x2 max-pool window, as garbled.
    for (unsigned l : {32u, 37u}) {
      if (opt->frac_bits + 2 > l) continue;
      const Measurement b = measure(gc::relu_step_circuit(l, opt->frac_bits), 4096, 1, gco);
      table.add_value("relu_bytes_l" + std::to_string(l), b.table_bytes_per_instance, "B");
    }
    const Measurement pool =
        measure(gc::maxpool_relu_circuit(opt->ring_bits, opt->frac_bits, 2), 1024, 1, gco);
    table.add_value("maxpool2x2_and_gates", static_cast<double>(pool.garble.and_gates / 1024),
                    "AND");
    table.add_value("maxpool2x2_bytes", pool.table_bytes_per_instance, "B");
    if (active != CpuPath::aesni && cpu_supports(CpuPath::aesni)) {
      gc::GcOptions aesni = gco;
      aesni.path = CpuPath::aesni;
      add_rates(table, measure(relu, opt->instances, opt->repeats, aesni), "_aesni");
    }
    table.print(opt->json);
  });
}

const CommandRegistration kRegistration("bench", "gc", &setup);

}  // namespace
}  // namespace pinfer::cli
