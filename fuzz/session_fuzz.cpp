// Fuzz target: the session messages of protocol (src/protocol/session_messages.hpp) and the
// per-precompute state files. Byte 0 picks the parser:
//   0 Hello  1 registration reply  2 HelloReply  3 Holdings  4 Request  5 ring values
//   6 client state file  7 server state file
// The "negotiated" model is fixed: ring l = 32, logits 1x5, two linear ops (1x4x6x6, 1x4x3x3).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "protocol/session_messages.hpp"

using namespace pinfer;
using namespace pinfer::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const Ring ring(32);
  const auto bytes = fuzz::as_bytes(data + 1, size - 1);
  const std::string fingerprint(64, 'a');
  fuzz::expect_clean([&] {
    switch (data[0] % 8) {
      case 0:
        (void)detail::decode_hello(bytes);
        break;
      case 1:
        (void)detail::decode_registration(bytes);
        break;
      case 2:
        (void)detail::decode_hello_reply(bytes);
        break;
      case 3:
        (void)detail::decode_holdings(bytes);
        break;
      case 4:
        (void)detail::decode_request(bytes);
        break;
      case 5:
        (void)detail::decode_ring_values(bytes, Shape{1, 5}, ring);
        break;
      case 6:
        (void)detail::read_client_state(fuzz::scratch_file({data + 1, size - 1}, ".state").string(),
                                        ProtocolKind::client_garbler, gc::GcScheme::three_halves,
                                        fingerprint, ring, Shape{1, 5});
        break;
      default:
        (void)detail::read_server_state(fuzz::scratch_file({data + 1, size - 1}, ".state").string(),
                                        ProtocolKind::server_garbler, gc::GcScheme::three_halves,
                                        fingerprint, ring, {Shape{1, 4, 6, 6}, Shape{1, 4, 3, 3}});
        break;
    }
  });
  return 0;
}
