// Fuzz target: the Channel frame decoder (type and length checked against caps before the
// payload is allocated, the peer's error frames) and ChannelStreamReader (announced total,
// chunk frames). Input: byte 0 picks the receive pattern, the rest is a frame script
// (fuzz_util.hpp).
#include <array>
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "pinfer/core/channel_stream.hpp"

using namespace pinfer;

namespace {
constexpr uint32_t kType = 7;
constexpr std::size_t kMaxFrame = 1 << 16;  // the negotiated cap of this "session"
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  fuzz::ScriptChannel ch(fuzz::parse_script({data + 1, size - 1}), kMaxFrame);
  fuzz::expect_clean([&] {
    switch (mode % 3) {
      case 0:  // frames with a per-message cap below the channel's
        for (int i = 0; i < 64; ++i) (void)ch.recv(kType, 4096);
        break;
      case 1: {  // fixed-size frames
        std::array<std::byte, 48> out{};
        for (int i = 0; i < 64; ++i) ch.recv_exact(kType, out);
        break;
      }
      default: {  // a stream of at most 256 KiB in chunks of at most 4 KiB
        ChannelStreamReader reader(ch, kType, 256 << 10, 4096);
        std::array<std::byte, 1000> buf{};
        while (reader.remaining() > 0) {
          const std::size_t n = static_cast<std::size_t>(
              std::min<uint64_t>(reader.remaining(), buf.size() - (mode >> 2) % 7));
          reader.read(std::span(buf).first(n));
        }
        reader.finish();
        break;
      }
    }
  });
  return 0;
}
