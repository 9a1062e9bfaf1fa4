// `pinfer selfcheck`: quick known-answer checks of the kernels this machine will use, so a user
// sees at once whether the build works here.
#include <fmt/core.h>

#include <cstring>
#include <vector>

#include "command_registry.hpp"
#include "pinfer/core/aes.hpp"
#include "pinfer/core/channel.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/sharing.hpp"

namespace pinfer::cli {
namespace {

bool check(const char* name, bool ok) {
  fmt::print("  {:<48} {}\n", name, ok ? "ok" : "FAILED");
  return ok;
}

bool aes_paths_agree() {
  const Aes128 aes(Block(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL));
  std::vector<Block> ref(1000), out(1000);
  aes.ctr_keystream_with(CpuPath::openssl, 7, 3, ref);
  for (CpuPath p : {CpuPath::aesni, CpuPath::vaes}) {
    if (!cpu_supports(p)) continue;
    aes.ctr_keystream_with(p, 7, 3, out);
    if (out != ref) return false;
  }
  return true;
}

bool sharing_reconstructs() {
  const Ring ring(37);
  Prg prg;
  RingTensor x(Shape{2, 3, 4, 5});
  prg.fill_ring(ring, x.span());
  const SharedTensor s = share(ring, x, prg);
  return reconstruct(ring, s.masked, s.mask) == x;
}

bool channel_round_trip() {
  auto [a, b] = make_memory_channel_pair();
  const std::vector<std::byte> msg(1000, std::byte{42});
  a->send(7, msg);
  return b->recv(7, 1000) == msg;
}

void setup(CLI::App& app) {
  CLI::App* cmd =
      app.add_subcommand("selfcheck", "Check the cryptographic kernels on this machine");
  cmd->callback([] {
    fmt::print("pinfer selfcheck (aes path: {})\n", to_string(aes_active_path()));
    bool ok = true;
    ok &= check("AES paths agree (openssl, aesni, vaes)", aes_paths_agree());
    ok &= check("additive sharing over Z_2^37 reconstructs", sharing_reconstructs());
    ok &= check("in-memory channel round trip", channel_round_trip());
    if (!ok) throw Error("selfcheck failed");
    fmt::print("selfcheck passed\n");
  });
}

const CommandRegistration kRegistration("", "selfcheck", &setup);

}  // namespace
}  // namespace pinfer::cli
