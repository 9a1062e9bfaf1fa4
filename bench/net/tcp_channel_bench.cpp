// Loopback throughput of TcpChannel: a sender thread streams frames of a given size to a
// receiver; bytes include the 12-byte frame headers.
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>
#include <vector>

#include "pinfer/core/prg.hpp"
#include "pinfer/net/tcp_channel.hpp"
#include "pinfer/net/tcp_listener.hpp"

namespace pinfer::net {
namespace {

void BM_TcpChannelLoopback(benchmark::State& state) {
  const auto frame_bytes = static_cast<std::size_t>(state.range(0));
  TcpOptions options;
  options.max_frame_bytes = std::max<std::size_t>(frame_bytes, 1);
  TcpListener listener("127.0.0.1", 0, options);
  auto client = TcpChannel::connect("127.0.0.1", listener.port(), options);
  auto server = listener.accept(10'000);
  std::vector<std::byte> out(frame_bytes), in(frame_bytes);
  Prg().fill_bytes(out);
  // Each iteration moves a batch of about 64 MiB (at least 16 frames).
  const std::size_t frames =
      std::max<std::size_t>(16, (std::size_t{64} << 20) / (frame_bytes + 12));
  for (auto _ : state) {
    std::thread sender([&] {
      for (std::size_t i = 0; i < frames; ++i) client->send(1, out);
      client->flush();
    });
    for (std::size_t i = 0; i < frames; ++i) server->recv_exact(1, in);
    sender.join();
  }
  benchmark::DoNotOptimize(in.data());
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * frames * (frame_bytes + kFrameHeaderBytes)));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames));
}
BENCHMARK(BM_TcpChannelLoopback)
    ->Arg(64)
    ->Arg(4 << 10)
    ->Arg(64 << 10)
    ->Arg(1 << 20)
    ->Arg(4 << 20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pinfer::net
