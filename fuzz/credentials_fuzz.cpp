// Fuzz target: the identity files of the TLS/identity layer (protocol/client_registry.hpp): the
// client's credentials file (load_credentials) and the server's registry (ClientRegistry).
// Byte 0: bit 0 picks the file; bit 1 set (registry): the input is the body and the target
// appends the valid "end <clients> <sha256>" trailer, so the fuzzer gets past the checksum.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "fuzz_util.hpp"
#include "pinfer/core/sha256.hpp"
#include "pinfer/protocol/client_registry.hpp"

using namespace pinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::span<const uint8_t> body(data + 1, size - 1);
  fuzz::expect_clean([&] {
    if ((data[0] & 1) == 0) {
      (void)protocol::load_credentials(fuzz::scratch_file(body, ".credentials"));
      return;
    }
    std::string text(reinterpret_cast<const char*>(body.data()), body.size());
    if (data[0] & 2) {
      std::size_t clients = 0;
      for (std::size_t p = 0; (p = text.find("\nclient ", p)) != std::string::npos; ++p) ++clients;
      text += "end " + std::to_string(clients) + " " + sha256_hex(text) + "\n";
    }
    const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
    const protocol::ClientRegistry registry(fuzz::scratch_file({bytes, text.size()}, ".registry"));
    (void)registry.size();
  });
  return 0;
}
