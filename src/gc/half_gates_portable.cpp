// Portable half-gates kernels: scalar label arithmetic around batched OpenSSL AES calls.
// Scratch holding labels and their hashes is wiped (SecretBuffer).
#include "pinfer/core/secret_buffer.hpp"

#include "half_gates_kernels.hpp"

namespace pinfer::gc::detail {

const Aes128& fixed_key_aes() {
  static const Aes128 pi(kFixedKey);
  return pi;
}

void garble_and_portable(const Aes128& pi, const Block* a0_in, const Block* b0_in,
                         const Block& delta, const Block& flip_a, const Block& flip_b,
                         uint64_t gate_index, uint64_t stride, Block* c0, Block* tg, Block* te,
                         std::size_t n) noexcept {
  SecretBuffer<Block> s(4 * n), h(4 * n), a0(n), b0(n);
  for (std::size_t i = 0; i < n; ++i) {
    a0[i] = a0_in[i] ^ flip_a;
    b0[i] = b0_in[i] ^ flip_b;
    s[4 * i] = a0[i];
    s[4 * i + 1] = a0[i] ^ delta;
    s[4 * i + 2] = b0[i];
    s[4 * i + 3] = b0[i] ^ delta;
  }
  pi.encrypt_ecb_with(CpuPath::openssl, s.span(), s.span());  // pi(x)
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t g = gate_index + i * stride;
    const Block j(2 * g, 0), j1(2 * g + 1, 0);
    h[4 * i] = s[4 * i] ^ j;
    h[4 * i + 1] = s[4 * i + 1] ^ j;
    h[4 * i + 2] = s[4 * i + 2] ^ j1;
    h[4 * i + 3] = s[4 * i + 3] ^ j1;
  }
  pi.encrypt_ecb_with(CpuPath::openssl, h.span(), h.span());
  for (std::size_t i = 0; i < n; ++i) {
    const Block ha0 = h[4 * i] ^ s[4 * i], ha1 = h[4 * i + 1] ^ s[4 * i + 1];
    const Block hb0 = h[4 * i + 2] ^ s[4 * i + 2], hb1 = h[4 * i + 3] ^ s[4 * i + 3];
    const Block pa = Block::mask_of(a0[i].lo), pb = Block::mask_of(b0[i].lo);
    const Block g_table = ha0 ^ ha1 ^ (pb & delta);
    const Block e_table = hb0 ^ hb1 ^ a0[i];
    const Block wg0 = ha0 ^ (pa & g_table);
    const Block we0 = hb0 ^ (pb & (hb0 ^ hb1));
    tg[i] = g_table;
    te[i] = e_table;
    c0[i] = wg0 ^ we0;
  }
}

void eval_and_portable(const Aes128& pi, const Block* a, const Block* b, const Block* tg,
                       const Block* te, uint64_t gate_index, uint64_t stride, Block* c,
                       std::size_t n) noexcept {
  SecretBuffer<Block> s(2 * n), h(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    s[2 * i] = a[i];
    s[2 * i + 1] = b[i];
  }
  pi.encrypt_ecb_with(CpuPath::openssl, s.span(), s.span());  // pi(x)
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t g = gate_index + i * stride;
    h[2 * i] = s[2 * i] ^ Block(2 * g, 0);
    h[2 * i + 1] = s[2 * i + 1] ^ Block(2 * g + 1, 0);
  }
  pi.encrypt_ecb_with(CpuPath::openssl, h.span(), h.span());
  for (std::size_t i = 0; i < n; ++i) {
    const Block ha = h[2 * i] ^ s[2 * i], hb = h[2 * i + 1] ^ s[2 * i + 1];
    const Block sa = Block::mask_of(a[i].lo), sb = Block::mask_of(b[i].lo);
    c[i] = ha ^ (sa & tg[i]) ^ hb ^ (sb & (te[i] ^ a[i]));
  }
}

}  // namespace pinfer::gc::detail
