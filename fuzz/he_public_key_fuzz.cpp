// Fuzz target: he::PublicKey::deserialize against the standard context (N = 8192, four
// primes): header, ring dimension and limb count checked against the context, bit-packed b.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "pinfer/he/keys.hpp"

using namespace pinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const he::Context ctx = he::Context::create(37);
  fuzz::expect_clean([&] { (void)he::PublicKey::deserialize(ctx, fuzz::as_bytes(data, size)); });
  return 0;
}
