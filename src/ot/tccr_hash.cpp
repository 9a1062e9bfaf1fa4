#include "tccr_hash.hpp"

#include <algorithm>

#include "pinfer/core/aes.hpp"
#include "pinfer/core/secret_buffer.hpp"

namespace pinfer::ot::detail {
namespace {

// The fixed public key of pi: the first 128 bits of the fractional part of pi (a
// nothing-up-my-sleeve constant; the proof holds for any fixed key in the ideal-cipher model).
const Aes128& fixed_key_aes() {
  static const Aes128 aes(Block(0x243F6A8885A308D3ull, 0x13198A2E03707344ull));
  return aes;
}

}  // namespace

void tccr_hash(std::span<const Block> x, uint64_t tweak_base, uint64_t tweak_domain,
               std::span<Block> out) noexcept {
  const Aes128& aes = fixed_key_aes();
  constexpr std::size_t kBatch = 256;  // 4 KiB on the stack, enough to keep AES pipelined
  alignas(64) Block px[kBatch];
  alignas(64) Block t[kBatch];
  for (std::size_t off = 0; off < x.size(); off += kBatch) {
    const std::size_t m = std::min(kBatch, x.size() - off);
    aes.encrypt_ecb(x.subspan(off, m), std::span(px, m));
    for (std::size_t j = 0; j < m; ++j) t[j] = px[j] ^ Block(tweak_base + off + j, tweak_domain);
    aes.encrypt_ecb(std::span<const Block>(t, m), std::span(t, m));
    for (std::size_t j = 0; j < m; ++j) out[off + j] = t[j] ^ px[j];
  }
  secure_wipe(px, sizeof px);
  secure_wipe(t, sizeof t);
}

}  // namespace pinfer::ot::detail
