// Plaintext fixed-point inference time per built-in network, one thread: the cost of the
// oracle itself and the baseline the secure protocols are compared with.
//   build-*/bench/pinfer_nn_bench --benchmark_filter=FixedPoint
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "pinfer/nn/builtin_models.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/float_engine.hpp"
#include "pinfer/nn/model_loader.hpp"

namespace pinfer::nn {
namespace {

// Loaded once per network (building + calibrating ResNet-18 TinyImageNet takes seconds).
const LoadedModel& loaded(const std::string& name) {
  static std::map<std::string, std::unique_ptr<LoadedModel>> cache;
  auto& slot = cache[name];
  if (!slot) slot = std::make_unique<LoadedModel>(load_model(name));
  return *slot;
}

FloatTensor input_for(const Model& m) {
  FloatTensor x(m.input_shape());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 101) / 101.0f;
  return x;
}

void BM_FixedPointInference(benchmark::State& state, const std::string& name) {
  const LoadedModel& m = loaded(name);
  const RingTensor x = encode_input(m.lowered, input_for(m.model));
  const LoweredCounts c = count(m.lowered);
  for (auto _ : state) {
    RingTensor y = run_fixed_point(m.lowered, x);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.macs));  // MACs
  state.counters["l"] = m.lowered.l;
  state.counters["f"] = m.lowered.f;
  state.counters["relus"] = static_cast<double>(c.relus);
}

void BM_FloatInference(benchmark::State& state, const std::string& name) {
  const LoadedModel& m = loaded(name);
  const FloatTensor x = input_for(m.model);
  const ModelCounts c = count(m.model);
  for (auto _ : state) {
    FloatTensor y = run_float(m.model, x);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.macs));
}

void register_all() {
  for (const std::string& name : builtin_model_names()) {
    if (name.find("cifar100") != std::string::npos) continue;  // same cost as cifar10
    benchmark::RegisterBenchmark(("BM_FixedPointInference/" + name).c_str(), BM_FixedPointInference,
                                 name)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(2.0)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("BM_FloatInference/" + name).c_str(), BM_FloatInference, name)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(2.0)
        ->UseRealTime();
  }
  // Benchmarks get no PINFER_SOURCE_DIR; CMake compiles this file by its absolute path.
  const std::string digits =
      (std::filesystem::path(__FILE__).parent_path() / "../../models/digits.onnx").string();
  benchmark::RegisterBenchmark("BM_FixedPointInference/digits", BM_FixedPointInference, digits)
      ->Unit(benchmark::kMicrosecond);
}

const int kRegistered = (register_all(), 0);

}  // namespace
}  // namespace pinfer::nn
