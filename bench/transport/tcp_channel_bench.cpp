// Loopback throughput of TcpChannel, plain TCP and TLS 1.3: a sender thread streams frames of a
// given size to a receiver; bytes include the 12-byte frame headers.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "pinfer/core/prg.hpp"
#include "pinfer/transport/tcp_channel.hpp"
#include "pinfer/transport/tcp_listener.hpp"
#include "pinfer/transport/tls_certificate.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace pinfer::transport {
namespace {

void stream_frames(benchmark::State& state, TcpChannel* client, TcpChannel* server) {
  const auto frame_bytes = static_cast<std::size_t>(state.range(0));
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

TcpOptions options_for(const benchmark::State& state) {
  TcpOptions options;
  options.max_frame_bytes = std::max<std::size_t>(static_cast<std::size_t>(state.range(0)), 1);
  return options;
}

void BM_TcpChannelLoopback(benchmark::State& state) {
  const TcpOptions options = options_for(state);
  TcpListener listener("127.0.0.1", 0, options);
  auto client = TcpChannel::connect_plaintext_loopback("127.0.0.1", listener.port(), options);
  auto server = listener.accept(10'000);
  stream_frames(state, client.get(), server.get());
}

// The same over TLS 1.3 (pinned self-signed ECDSA certificate, OpenSSL's default suite).
void BM_TlsChannelLoopback(benchmark::State& state) {
  const TcpOptions options = options_for(state);
  const PemCertificate cert = make_certificate({});
  TcpListener listener("127.0.0.1", 0, options,
                       TlsServerContext::from_pem(cert.cert_pem, cert.key_pem.span()));
  std::unique_ptr<TcpChannel> server;
  std::thread acceptor([&] {
    server = listener.accept(10'000);
    server->handshake();
  });
  auto client =
      TcpChannel::connect(Endpoint{"127.0.0.1", listener.port()}, options,
                          TlsClientContext::pinned(certificate_fingerprint(cert.cert_pem)));
  acceptor.join();
  stream_frames(state, client.get(), server.get());
}

// Plain and TLS run the same frame sizes, so their rows compare one to one.
void frame_sizes(benchmark::internal::Benchmark* b) {
  for (int64_t bytes :
       {int64_t{64}, int64_t{4} << 10, int64_t{64} << 10, int64_t{1} << 20, int64_t{4} << 20}) {
    b->Arg(bytes);
  }
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_TcpChannelLoopback)->Apply(frame_sizes);
BENCHMARK(BM_TlsChannelLoopback)->Apply(frame_sizes);

}  // namespace
}  // namespace pinfer::transport
