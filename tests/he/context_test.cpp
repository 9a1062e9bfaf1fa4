#include "pinfer/he/context.hpp"

#include <gtest/gtest.h>

#include "pinfer/core/error.hpp"

namespace pinfer::he {
namespace {

TEST(Parameters, StandardSetIsWithinTheHeStandard) {
  const Parameters p = Parameters::standard(37);
  EXPECT_EQ(p.poly_degree, 8192u);
  EXPECT_EQ(p.primes.size(), 4u);
  EXPECT_LE(p.log2_modulus(), 218.0);
  EXPECT_NO_THROW(p.validate());
  for (uint64_t q : p.primes) EXPECT_LT(q, uint64_t{1} << 50);
}

TEST(Parameters, RefusesInsecureModulusForRingDimension) {
  // 200-bit Q at N = 4096 exceeds the HE Standard's 109 bits for 128-bit security.
  Parameters p;
  p.poly_degree = 4096;
  p.plain_bits = 32;
  p.primes = Parameters::ntt_primes(4096, 50, 4);
  EXPECT_THROW(p.validate(), InvalidArgument);
  EXPECT_THROW(Context{p}, InvalidArgument);
  // Two 50-bit primes (100 bits) are fine at N = 4096.
  p.primes.resize(2);
  EXPECT_NO_THROW(p.validate());
  // Five 50-bit primes (250 bits) at N = 8192 exceed 218.
  Parameters q = Parameters::standard(32);
  q.primes = Parameters::ntt_primes(8192, 50, 5);
  EXPECT_THROW(Context{q}, InvalidArgument);
}

TEST(Parameters, RefusesMalformedSets) {
  Parameters p = Parameters::standard(32);
  p.primes[1] = p.primes[0];
  EXPECT_THROW(p.validate(), InvalidArgument);
  p = Parameters::standard(32);
  p.poly_degree = 3000;
  EXPECT_THROW(p.validate(), InvalidArgument);
  EXPECT_THROW((void)Parameters::standard(8), InvalidArgument);
  EXPECT_THROW((void)Parameters::standard(60), InvalidArgument);
  p = Parameters::standard(32);
  p.stat_security_bits = 30;
  EXPECT_THROW(p.validate(), InvalidArgument);
}

TEST(HeStandard, TableValues) {
  EXPECT_EQ(he_standard_max_log_q(4096), 109u);
  EXPECT_EQ(he_standard_max_log_q(8192), 218u);
  EXPECT_EQ(he_standard_max_log_q(32768), 881u);
  EXPECT_THROW((void)he_standard_max_log_q(512), InvalidArgument);
}

}  // namespace
}  // namespace pinfer::he
