// `pinfer bench gc`: half-gates garbling and evaluation throughput (AND gates per second, one
// thread) on the ReLU-step circuit, and garbled bytes per ReLU / max-pool window.
#include <time.h>

#include <algorithm>
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
};

// Discards the tables (counting them), so the garbling figure is the kernel's, not memcpy's.
class CountingSink final : public gc::GarbledSink {
 public:
  void write(std::span<const std::byte> bytes) override { bytes_ += bytes.size(); }
  uint64_t bytes_ = 0;
};

struct Rates {
  double garble_and_per_s = 0;
  double eval_and_per_s = 0;
  uint64_t stream_bytes = 0;
};

// CPU time of this thread: the figures are per core, and on a shared machine wall time would
// also count the time other processes hold the core.
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Median rates over `repeats` runs of garbling and evaluating `instances` ReLU steps on `path`.
// The AND gates are those the kernels report (GarbleStats), checked against the circuit.
Rates measure(const gc::NonlinearCircuit& relu, uint64_t instances, int repeats, CpuPath path) {
  const gc::Circuit& c = relu.circuit;
  const Block delta = gc::random_delta();
  std::vector<Block> zero(instances * c.num_inputs()), active(zero.size());
  gc::LabelDeriver(os_random_block(), 0).zero_labels(0, zero);
  std::vector<uint8_t> bits(zero.size());
  Prg().fill_bits(bits);
  gc::active_labels(zero, bits, delta, active);
  std::vector<Block> out_zero(instances * c.num_outputs()), out(out_zero.size());
  const uint64_t expected_ands = instances * c.and_count();

  std::vector<double> garble_rates, eval_rates;
  Rates r;
  gc::MemoryGarbledSink stream;
  stream.mutable_bytes().reserve(gc::garbled_stream_bytes(c, instances));
  (void)gc::garble_batch(c, zero, delta, 0, stream, out_zero, path);
  for (int i = 0; i < repeats; ++i) {
    CountingSink sink;
    const double t0 = thread_seconds();
    const gc::GarbleStats g = gc::garble_batch(c, zero, delta, 0, sink, out_zero, path);
    const double dt = thread_seconds() - t0;
    PINFER_ASSERT(g.and_gates == expected_ands && sink.bytes_ == g.stream_bytes);
    garble_rates.push_back(static_cast<double>(g.and_gates) / dt);
    r.stream_bytes = sink.bytes_;

    gc::MemoryGarbledSource source(stream.bytes());
    const double t1 = thread_seconds();
    const gc::GarbleStats e = gc::evaluate_batch(c, active, 0, source, out, path);
    const double de = thread_seconds() - t1;
    PINFER_ASSERT(e.and_gates == expected_ands);
    eval_rates.push_back(static_cast<double>(e.and_gates) / de);
  }
  // The evaluation must decode to the plaintext circuit, or the figures mean nothing.
  std::vector<uint8_t> decode(out.size()), got(out.size()), want(c.num_outputs());
  gc::decode_bits(out_zero, decode);
  gc::decode_outputs(out, decode, got);
  for (uint64_t i = 0; i < instances; i += 997) {
    c.evaluate_plain(std::span(bits).subspan(i * c.num_inputs(), c.num_inputs()), want);
    PINFER_ASSERT(std::equal(want.begin(), want.end(), got.begin() + i * c.num_outputs()));
  }
  r.garble_and_per_s = median(garble_rates);
  r.eval_and_per_s = median(eval_rates);
  return r;
}

void setup(CLI::App& bench) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = bench.add_subcommand(
      "gc", "Half-gates garbling/evaluation, AND gates per second on one thread, bytes per ReLU");
  cmd->add_flag("--json", opt->json, "Print one JSON object");
  cmd->add_option("--repeats", opt->repeats, "Runs; the median is reported")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--l", opt->ring_bits, "Ring bits l")->check(CLI::Range(2, 64));
  cmd->add_option("--f", opt->frac_bits, "Fractional bits f")->check(CLI::Range(0, 62));
  cmd->add_option("--instances", opt->instances, "ReLU instances per run")
      ->check(CLI::Range(1, 1 << 22));
  cmd->callback([opt] {
    const gc::NonlinearCircuit relu = gc::relu_step_circuit(opt->ring_bits, opt->frac_bits);
    BenchTable table("Half-gates garbling (fixed-key AES, GKWY20 hash), ReLU step l=" +
                     std::to_string(opt->ring_bits) + " f=" + std::to_string(opt->frac_bits) +
                     ", one thread (thread CPU time), median of " + std::to_string(opt->repeats) +
                     " runs");
    const CpuPath active = gc::gc_active_path();
    table.add_text("gc_path", to_string(active));
    const Rates r = measure(relu, opt->instances, opt->repeats, active);
    table.add_value("garble_and_per_s", r.garble_and_per_s, "AND/s");
    table.add_value("eval_and_per_s", r.eval_and_per_s, "AND/s");
    table.add_value("relu_and_gates", static_cast<double>(relu.circuit.and_count()), "AND");
    table.add_value("relu_bytes",
                    static_cast<double>(relu.circuit.and_count() * gc::kAndTableBytes), "B");
    table.add_value("relu_stream_bytes_per_instance",
                    static_cast<double>(r.stream_bytes) / static_cast<double>(opt->instances), "B");
    for (unsigned l : {32u, 37u}) {
      if (opt->frac_bits + 2 > l) continue;
      const uint64_t ands = gc::relu_step_and_count(l, opt->frac_bits);
      table.add_value("relu_bytes_l" + std::to_string(l), static_cast<double>(ands * 32), "B");
    }
    const uint64_t pool =
        gc::maxpool_relu_circuit(opt->ring_bits, opt->frac_bits, 2).circuit.and_count();
    table.add_value("maxpool2x2_and_gates", static_cast<double>(pool), "AND");
    table.add_value("maxpool2x2_bytes", static_cast<double>(pool * gc::kAndTableBytes), "B");
    if (active != CpuPath::aesni && cpu_supports(CpuPath::aesni)) {
      const Rates a = measure(relu, opt->instances, opt->repeats, CpuPath::aesni);
      table.add_value("garble_and_per_s_aesni", a.garble_and_per_s, "AND/s");
      table.add_value("eval_and_per_s_aesni", a.eval_and_per_s, "AND/s");
    }
    table.print(opt->json);
  });
}

const CommandRegistration kRegistration("bench", "gc", &setup);

}  // namespace
}  // namespace pinfer::cli
