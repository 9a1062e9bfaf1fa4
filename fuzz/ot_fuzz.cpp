// Fuzz target: every OT message a party receives, with the peer's frames from the input
// (frame script, fuzz_util.hpp). Byte 0 picks the role under attack:
//   0 base-OT sender (receiver's points)      1 base-OT receiver (C || g^r)
//   2 COT sender: setup + IKNP columns        3 COT receiver: setup + chosen-OT messages
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.hpp"
#include "pinfer/ot/base_ot.hpp"
#include "pinfer/ot/cot.hpp"
#include "pinfer/ot/random_ot.hpp"

using namespace pinfer;

namespace {

constexpr std::size_t kBaseOts = 128;
constexpr std::size_t kExtendOts = 300;  // not a multiple of 128: exercises the padding

void run(uint8_t role, fuzz::ScriptChannel& ch) {
  Prg prg = Prg::from_seed(Block{7, 7});
  switch (role) {
    case 0: {
      std::vector<Block> m0(kBaseOts), m1(kBaseOts);
      ot::base_ot_send(ch, prg, m0, m1);
      break;
    }
    case 1: {
      std::vector<uint8_t> choices(kBaseOts, 1);
      std::vector<Block> out(kBaseOts);
      ot::base_ot_receive(ch, prg, choices, out);
      break;
    }
    case 2: {
      ot::CotSender sender(ch, Delta::from_block(Block{0x1235, 0x77}), prg);
      std::vector<Block> k0(kExtendOts);
      sender.extend(k0);
      sender.extend(k0);
      break;
    }
    default: {
      ot::CotReceiver receiver(ch, prg);
      std::vector<uint8_t> choices(kExtendOts, 0);
      std::vector<Block> out(kExtendOts);
      ot::ot_receive(receiver, choices, out);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  fuzz::ScriptChannel ch(fuzz::parse_script({data + 1, size - 1}), kDefaultMaxFrameBytes);
  fuzz::expect_clean([&] { run(data[0] % 4, ch); });
  return 0;
}
