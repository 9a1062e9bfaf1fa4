// Google Benchmark: negacyclic NTT (forward + inverse, one limb) per path, and the dyadic
// multiply-accumulate used for plaintext-ciphertext products in NTT form.
#include <benchmark/benchmark.h>

#include <vector>

#include "he/ntt_kernels.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/he/context.hpp"
#include "pinfer/he/ntt.hpp"

namespace {

using pinfer::he::NttPath;

void BM_NttForwardInverse(benchmark::State& state, NttPath path) {
  if (!pinfer::he::ntt_path_supported(path)) {
    state.SkipWithError("path not supported on this CPU");
    return;
  }
  const auto n = static_cast<std::size_t>(state.range(0));
  const pinfer::he::NttTables t(n, pinfer::he::Parameters::ntt_primes(n, 50, 1).at(0));
  std::vector<uint64_t> a(n);
  pinfer::Prg prg;
  for (auto& v : a) v = prg.next_u64() % t.modulus();
  for (auto _ : state) {
    t.forward_with(path, a);
    t.inverse_with(path, a);
    benchmark::DoNotOptimize(a.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DyadicMac(benchmark::State& state, NttPath path) {
  if (!pinfer::he::ntt_path_supported(path)) {
    state.SkipWithError("path not supported on this CPU");
    return;
  }
  const std::size_t n = 8192;
  const uint64_t p = pinfer::he::Parameters::ntt_primes(n, 50, 1).at(0);
  const auto m = pinfer::he::detail::make_barrett52(p);
  std::vector<uint64_t> a(n), b(n), acc(n, 0);
  pinfer::Prg prg;
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = prg.next_u64() % p;
    b[i] = prg.next_u64() % p;
  }
  for (auto _ : state) {
    if (path == NttPath::ifma) {
      pinfer::he::detail::dyadic_mac_ifma(m, acc.data(), a.data(), b.data(), n);
    } else {
      pinfer::he::detail::dyadic_mac_portable(m, acc.data(), a.data(), b.data(), n);
    }
    benchmark::DoNotOptimize(acc.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

BENCHMARK_CAPTURE(BM_NttForwardInverse, ifma, NttPath::ifma)->Arg(4096)->Arg(8192);
BENCHMARK_CAPTURE(BM_NttForwardInverse, portable, NttPath::portable)->Arg(4096)->Arg(8192);
BENCHMARK_CAPTURE(BM_DyadicMac, ifma, NttPath::ifma);
BENCHMARK_CAPTURE(BM_DyadicMac, portable, NttPath::portable);

}  // namespace
