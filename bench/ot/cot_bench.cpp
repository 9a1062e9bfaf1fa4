// OT benchmarks: IKNP correlated OT (both parties, one thread each, in-memory channel), random
// and chosen-message OT on top, the 128 base OTs, and the bit transpose per kernel path.
#include <benchmark/benchmark.h>

#include <thread>
#include <vector>

#include "pinfer/core/channel.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/ot/base_ot.hpp"
#include "pinfer/ot/bit_transpose.hpp"
#include "pinfer/ot/cot.hpp"
#include "pinfer/ot/random_ot.hpp"

namespace pinfer::ot {
namespace {

// A connected, set-up COT pair; the sender runs on its own thread per measured call.
struct CotPair {
  std::unique_ptr<Channel> a, b;
  Prg pa, pb;
  std::unique_ptr<CotSender> sender;
  std::unique_ptr<CotReceiver> receiver;

  CotPair() {
    auto ch = make_memory_channel_pair();
    a = std::move(ch.first);
    b = std::move(ch.second);
    // Each side runs its base OTs while constructing: the sender on a thread of its own.
    std::thread t([&] { sender = std::make_unique<CotSender>(*a, Delta::random(), pa); });
    receiver = std::make_unique<CotReceiver>(*b, pb);
    t.join();
  }
};

void BM_CotExtend(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  CotPair p;
  std::vector<Block> k0(n), out(n);
  std::vector<uint8_t> choices(n);
  p.pb.fill_bits(choices);
  for (auto _ : state) {
    std::thread t([&] { p.sender->extend(k0); });
    p.receiver->extend(choices, out);
    t.join();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["bytes_per_cot"] =
      static_cast<double>(p.b->traffic().total.bytes_sent - cot_setup_receiver_bytes()) /
      static_cast<double>(state.iterations() * n);
}
BENCHMARK(BM_CotExtend)->Arg(1 << 22)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RandomOt(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  CotPair p;
  std::vector<Block> m0(n), m1(n), out(n);
  std::vector<uint8_t> choices(n);
  p.pb.fill_bits(choices);
  for (auto _ : state) {
    std::thread t([&] { rot_send(*p.sender, m0, m1); });
    rot_receive(*p.receiver, choices, out);
    t.join();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_RandomOt)->Arg(1 << 22)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ChosenOt(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  CotPair p;
  std::vector<Block> m0(n), m1(n), out(n);
  std::vector<uint8_t> choices(n);
  p.pb.fill_bits(choices);
  for (auto _ : state) {
    std::thread t([&] { ot_send(*p.sender, m0, m1); });
    ot_receive(*p.receiver, choices, out);
    t.join();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_ChosenOt)->Arg(1 << 22)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BaseOt128(benchmark::State& state) {
  for (auto _ : state) {
    auto [a, b] = make_memory_channel_pair();
    std::vector<Block> m0(128), m1(128), out(128);
    std::vector<uint8_t> choices(128, 1);
    std::thread t([&] {
      Prg p;
      base_ot_send(*a, p, m0, m1);
    });
    Prg p;
    base_ot_receive(*b, p, choices, out);
    t.join();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 128));
}
BENCHMARK(BM_BaseOt128)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Transpose(benchmark::State& state) {
  const auto path = static_cast<TransposePath>(state.range(0));
  if (!transpose_path_supported(path)) {
    state.SkipWithError("path not supported by this CPU");
    return;
  }
  const std::size_t nb = 512;  // one COT chunk
  std::vector<Block> in(128 * nb), out(128 * nb);
  Prg prg;
  prg.fill_blocks(in);
  for (auto _ : state) {
    transpose_128xn_with(path, in, nb, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(std::string(to_string(path)));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 128 * nb));  // rows out
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size() * sizeof(Block)));
}
BENCHMARK(BM_Transpose)->DenseRange(0, 3);

// The layout IKNP uses: rows padded by one cache line, so a tile's rows do not share an L1 set.
void BM_TransposePadded(benchmark::State& state) {
  const auto path = static_cast<TransposePath>(state.range(0));
  if (!transpose_path_supported(path)) {
    state.SkipWithError("path not supported by this CPU");
    return;
  }
  const std::size_t nb = 512, stride = nb + 4;
  std::vector<Block> in(128 * stride), out(128 * nb);
  Prg prg;
  prg.fill_blocks(in);
  for (auto _ : state) {
    transpose_128xn_strided_with(path, in, stride, nb, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(std::string(to_string(path)));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 128 * nb));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size() * sizeof(Block)));
}
BENCHMARK(BM_TransposePadded)->DenseRange(0, 3);

}  // namespace
}  // namespace pinfer::ot
