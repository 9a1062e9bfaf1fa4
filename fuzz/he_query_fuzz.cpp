// Fuzz target: the server's parse of a client's HE query (LinearServer::parse_query) for the
// fixture's layers: header, layer fingerprint, ciphertext count and coefficient widths must
// match the layer's plan. Byte 0 picks the layer.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "fuzz_util.hpp"
#include "he_fixture.hpp"

using namespace pinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const std::vector<std::unique_ptr<he::LinearServer>> servers = [] {
    const fuzz::HeFixture& f = fuzz::he_fixture();
    std::vector<std::unique_ptr<he::LinearServer>> s;
    for (const he::LinearGeometry& g : f.layers) {
      std::vector<uint64_t> w(he::linear_weight_size(g));
      for (std::size_t i = 0; i < w.size(); ++i) w[i] = (i * 2654435761u) % 97;
      s.push_back(std::make_unique<he::LinearServer>(f.ctx, g, w));
    }
    return s;
  }();
  if (size < 1) return 0;
  const he::LinearServer& server = *servers[data[0] % servers.size()];
  fuzz::expect_clean([&] { (void)server.parse_query(fuzz::as_bytes(data + 1, size - 1)); });
  return 0;
}
