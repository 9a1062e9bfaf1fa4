// PRG throughput: Prg::fill_blocks on the active kernel path, and the AES-128-CTR keystream that
// fill_blocks uses for bulk requests on each path this CPU supports.
#include <benchmark/benchmark.h>

#include <vector>

#include "pinfer/core/aes.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer {
namespace {

void BM_PrgFillBlocks(benchmark::State& state) {
  Prg prg = Prg::from_seed(Block(1, 2));
  std::vector<Block> out(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    prg.fill_blocks(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size() * sizeof(Block)));
  state.SetLabel(std::string(to_string(aes_active_path())));
}
BENCHMARK(BM_PrgFillBlocks)->Arg(1000)->Arg(1 << 16)->Arg(1 << 20);

void BM_PrgNextBlock(benchmark::State& state) {
  Prg prg = Prg::from_seed(Block(1, 2));
  for (auto _ : state) benchmark::DoNotOptimize(prg.next_block());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sizeof(Block)));
  state.SetLabel(std::string(to_string(aes_active_path())));
}
BENCHMARK(BM_PrgNextBlock);

// The bulk part of fill_blocks on an explicit path (PINFER_CPU only caps the default one).
void BM_PrgKeystream(benchmark::State& state) {
  const auto path = static_cast<CpuPath>(state.range(0));
  if (!cpu_supports(path)) {
    state.SkipWithError("CPU lacks this path");
    return;
  }
  const Aes128 aes(Block(3, 4));
  std::vector<Block> out(static_cast<std::size_t>(state.range(1)));
  uint64_t counter = 0;
  for (auto _ : state) {
    aes.ctr_keystream_with(path, counter, 0, out);
    counter += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size() * sizeof(Block)));
  state.SetLabel(std::string(to_string(path)));
}
BENCHMARK(BM_PrgKeystream)
    ->ArgsProduct({{static_cast<int>(CpuPath::openssl), static_cast<int>(CpuPath::aesni),
                    static_cast<int>(CpuPath::vaes)},
                   {1 << 10, 1 << 16}})
    ->ArgNames({"path", "blocks"});

}  // namespace
}  // namespace pinfer
