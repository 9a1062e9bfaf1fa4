// Fuzz target: the client's parse and decryption of a server's HE response
// (decrypt_linear_output) for the fixture's layers: header, fingerprint, moduli 2^a / 2^b and
// ciphertext count must match the layer's plan. Byte 0 picks the layer.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "he_fixture.hpp"

using namespace pinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const fuzz::HeFixture& f = fuzz::he_fixture();
  if (size < 1) return 0;
  const he::LinearGeometry& g = f.layers[data[0] % f.layers.size()];
  fuzz::expect_clean([&] {
    (void)he::decrypt_linear_output(f.ctx, f.keys, g, fuzz::as_bytes(data + 1, size - 1));
  });
  return 0;
}
