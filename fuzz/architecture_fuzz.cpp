// Fuzz target: protocol::decode_architecture, the model description the server sends the
// client in HelloReply (every count and dimension capped, every index and shape checked).
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "pinfer/protocol/architecture.hpp"

using namespace pinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::expect_clean([&] { (void)protocol::decode_architecture(fuzz::as_bytes(data, size)); });
  return 0;
}
