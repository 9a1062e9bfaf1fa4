#include "pinfer/he/ntt.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "fast_path_skip.hpp"
#include "he/ntt_kernels.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/he/context.hpp"

namespace pinfer::he {
namespace {

std::vector<uint64_t> random_poly(std::size_t n, uint64_t p, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> a(n);
  for (auto& v : a) v = rng() % p;
  return a;
}

// Schoolbook negacyclic product mod p: the reference the NTT must match.
std::vector<uint64_t> negacyclic_mul(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b,
                                     uint64_t p) {
  const std::size_t n = a.size();
  std::vector<uint64_t> c(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const uint64_t prod =
          static_cast<uint64_t>((static_cast<unsigned __int128>(a[i]) * b[j]) % p);
      const std::size_t k = (i + j) % n;
      if (i + j < n) {
        c[k] = (c[k] + prod) % p;
      } else {
        c[k] = (c[k] + p - prod) % p;
      }
    }
  }
  return c;
}

void report_ifma_skip() {
  if (!ntt_path_supported(NttPath::ifma)) ::pinfer::test::report_unrun_paths({"ifma"});
}

std::vector<NttPath> paths() {
  std::vector<NttPath> out{NttPath::portable};
  if (ntt_path_supported(NttPath::ifma)) out.push_back(NttPath::ifma);
  return out;
}

TEST(Ntt, RoundTripEveryPrimeAndPath) {
  const auto primes = Parameters::ntt_primes(8192, 50, 4);
  ASSERT_EQ(primes.size(), 4u);
  for (std::size_t n : {std::size_t{16}, std::size_t{4096}, std::size_t{8192}}) {
    for (uint64_t p : primes) {
      const NttTables t(n, p);
      for (NttPath path : paths()) {
        const auto orig = random_poly(n, p, n + p);
        auto a = orig;
        t.forward_with(path, a);
        EXPECT_NE(a, orig);
        for (uint64_t v : a) ASSERT_LT(v, p);
        t.inverse_with(path, a);
        EXPECT_EQ(a, orig) << "n=" << n << " p=" << p << " path=" << to_string(path);
      }
    }
  }
  report_ifma_skip();
}

TEST(Ntt, IfmaAndPortableGiveIdenticalOutputs) {
  if (!ntt_path_supported(NttPath::ifma))
    GTEST_SKIP() << "this CPU lacks AVX-512 IFMA: the ifma/portable comparison did not run";
  for (uint64_t p : Parameters::ntt_primes(8192, 50, 4)) {
    const NttTables t(8192, p);
    auto a = random_poly(8192, p, p), b = a;
    // Include the extreme values 0 and p - 1.
    a[0] = b[0] = 0;
    a[1] = b[1] = p - 1;
    t.forward_with(NttPath::portable, a);
    t.forward_with(NttPath::ifma, b);
    ASSERT_EQ(a, b);
    t.inverse_with(NttPath::portable, a);
    t.inverse_with(NttPath::ifma, b);
    ASSERT_EQ(a, b);
  }
}

TEST(Ntt, ProductMatchesSchoolbookNegacyclic) {
  const uint64_t p = Parameters::ntt_primes(256, 50, 1).at(0);
  const std::size_t n = 256;
  const NttTables t(n, p);
  const auto a = random_poly(n, p, 1), b = random_poly(n, p, 2);
  const auto expect = negacyclic_mul(a, b, p);
  for (NttPath path : paths()) {
    auto fa = a, fb = b;
    t.forward_with(path, fa);
    t.forward_with(path, fb);
    std::vector<uint64_t> c(n);
    const auto m = detail::make_barrett52(p);
    if (path == NttPath::ifma) {
      detail::dyadic_mul_ifma(m, c.data(), fa.data(), fb.data(), n);
    } else {
      detail::dyadic_mul_portable(m, c.data(), fa.data(), fb.data(), n);
    }
    t.inverse_with(path, c);
    EXPECT_EQ(c, expect) << to_string(path);
  }
  report_ifma_skip();
}

TEST(Ntt, DyadicKernelsAgreeAtExtremes) {
  for (uint64_t p : Parameters::ntt_primes(8192, 50, 4)) {
    const auto m = detail::make_barrett52(p);
    auto a = random_poly(1024, p, 7), b = random_poly(1024, p, 8);
    a[0] = b[0] = p - 1;
    a[1] = 0;
    std::vector<uint64_t> acc1 = random_poly(1024, p, 9), acc2 = acc1;
    detail::dyadic_mac_portable(m, acc1.data(), a.data(), b.data(), a.size());
    for (std::size_t i = 0; i < 4; ++i) {
      const uint64_t want =
          static_cast<uint64_t>((static_cast<unsigned __int128>(a[i]) * b[i] + acc2[i]) % p);
      EXPECT_EQ(acc1[i], want);
    }
    if (ntt_path_supported(NttPath::ifma)) {
      detail::dyadic_mac_ifma(m, acc2.data(), a.data(), b.data(), a.size());
      EXPECT_EQ(acc1, acc2);
    }
  }
  report_ifma_skip();
}

TEST(Ntt, RejectsBadModulusOrSize) {
  EXPECT_THROW(NttTables(8192, 1125899906826243ull), InvalidArgument);    // not 1 mod 2N
  EXPECT_THROW(NttTables(1000, 12289), InvalidArgument);                  // not a power of two
  EXPECT_THROW(NttTables(16, (uint64_t{1} << 61) - 1), InvalidArgument);  // >= 2^50
}

}  // namespace
}  // namespace pinfer::he
