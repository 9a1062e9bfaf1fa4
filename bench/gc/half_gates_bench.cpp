// Google Benchmark suite for garbling (half-gates and three-halves): ReLU-step batches per kernel
// path and scheme, items = AND gates counted by the kernels (GarbleStats), bytes = garbled
// stream bytes. Arguments: l, CpuPath, GcScheme.
#include <benchmark/benchmark.h>

#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/gc/half_gates.hpp"
#include "pinfer/gc/labels.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"

namespace pinfer::gc {
namespace {

class DiscardSink final : public ByteSink {
 public:
  void write(std::span<const std::byte> bytes) override { benchmark::DoNotOptimize(bytes.data()); }
};

struct Fixture {
  NonlinearCircuit relu;
  Delta delta;
  std::vector<Block> zero, active, out;
  std::vector<std::byte> stream;

  GcOptions opt;

  Fixture(unsigned l, unsigned f, std::size_t instances, CpuPath path, GcScheme scheme)
      : relu(relu_step_circuit(l, f)), delta(Delta::random()) {
    opt.path = path;
    opt.scheme = scheme;
    opt.hash_key = os_random_block();
    zero.resize(instances * relu.circuit.num_inputs());
    active.resize(zero.size());
    out.resize(instances * relu.circuit.num_outputs());
    LabelDeriver(os_random_block(), 0).zero_labels(0, zero);
    std::vector<uint8_t> bits(zero.size());
    Prg().fill_bits(bits);
    active_labels(zero, bits, delta, active);
    MemoryByteSink sink;
    (void)garble_batch(relu.circuit, zero, delta, 0, sink, out, opt);
    stream = sink.take();
  }
};

constexpr std::size_t kInstances = 4096;

void BM_GarbleRelu(benchmark::State& state) {
  const auto path = static_cast<CpuPath>(state.range(1));
  if (!cpu_supports(path)) {
    state.SkipWithError("CPU path not supported");
    return;
  }
  Fixture fx(static_cast<unsigned>(state.range(0)), 8, kInstances, path,
             static_cast<GcScheme>(state.range(2)));
  uint64_t ands = 0, bytes = 0;
  for (auto _ : state) {
    DiscardSink sink;
    const GarbleStats s = garble_batch(fx.relu.circuit, fx.zero, fx.delta, 0, sink, fx.out, fx.opt);
    PINFER_ASSERT(s.and_gates == kInstances * fx.relu.circuit.and_count());
    ands += s.and_gates;
    bytes += s.stream_bytes;
  }
  state.SetItemsProcessed(static_cast<int64_t>(ands));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetLabel(std::string(to_string(path)) + " " + std::string(to_string(fx.opt.scheme)));
}

void BM_EvaluateRelu(benchmark::State& state) {
  const auto path = static_cast<CpuPath>(state.range(1));
  if (!cpu_supports(path)) {
    state.SkipWithError("CPU path not supported");
    return;
  }
  Fixture fx(static_cast<unsigned>(state.range(0)), 8, kInstances, path,
             static_cast<GcScheme>(state.range(2)));
  uint64_t ands = 0, bytes = 0;
  for (auto _ : state) {
    MemoryByteSource source(fx.stream);
    const GarbleStats s = evaluate_batch(fx.relu.circuit, fx.active, 0, source, fx.out, fx.opt);
    PINFER_ASSERT(s.and_gates == kInstances * fx.relu.circuit.and_count());
    ands += s.and_gates;
    bytes += s.stream_bytes;
  }
  state.SetItemsProcessed(static_cast<int64_t>(ands));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetLabel(std::string(to_string(path)) + " " + std::string(to_string(fx.opt.scheme)));
}

void paths(benchmark::internal::Benchmark* b) {
  for (GcScheme scheme : {GcScheme::half_gates, GcScheme::three_halves}) {
    for (int l : {32, 37}) {
      for (CpuPath p : {CpuPath::vaes, CpuPath::aesni, CpuPath::openssl}) {
        b->Args({l, static_cast<int>(p), static_cast<int>(scheme)});
      }
    }
  }
}

BENCHMARK(BM_GarbleRelu)->Apply(paths)->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvaluateRelu)->Apply(paths)->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pinfer::gc
