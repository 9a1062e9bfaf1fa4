#pragma once
// Private half-gates kernels: one AND gate of the circuit for n instances at once. Each ISA
// variant lives in its own file (built with its flags); all produce identical bytes.
//
// Garbler (ZRE15 Sec. 3), per instance i with zero-labels A0, B0, permute bits pa = lsb(A0),
// pb = lsb(B0), gate index g_i = gate_index + i * stride, tweaks j = 2 g_i, j' = 2 g_i + 1:
//   TG = H(A0, j) ^ H(A0 ^ D, j) ^ pb D        WG0 = H(A0, j) ^ pa TG
//   TE = H(B0, j') ^ H(B0 ^ D, j') ^ A0        WE0 = H(B0, j') ^ pb (TE ^ A0)
//   C0 = WG0 ^ WE0; the tables are (TG, TE).
// Evaluator with active labels A, B, colours sa = lsb(A), sb = lsb(B):
//   C = H(A, j) ^ sa TG ^ H(B, j') ^ sb (TE ^ A).
// H(x, t) = pi(pi(x) ^ t) ^ pi(x), pi = fixed-key AES: the tweakable circular correlation-robust
// hash TMMO of GKWY20 (Sec. 7.4). Tweaks sit in the low 64 bits of the block XORed into pi(x).
// Each hash is two dependent AES calls; the kernels run the first call for all labels of a step,
// then the second, so both passes stay pipelined.
// flip_a / flip_b (0 or Delta) are XORed into A0 / B0 first: the plan's folded NOT gates.
// Secret: labels and delta; the permute bits select with masks, never branches.
#include <cstddef>
#include <cstdint>

#include "pinfer/core/aes.hpp"

namespace pinfer::gc::detail {

// The fixed public AES key of pi: the first 128 bits of the fraction of pi, a nothing-up-my-
// sleeve constant.
inline constexpr Block kFixedKey{0x243F6A8885A308D3ull, 0x13198A2E03707344ull};

// pi = AES-128 under kFixedKey; immutable, shared by every thread.
[[nodiscard]] const Aes128& fixed_key_aes();

void garble_and_portable(const Aes128& pi, const Block* a0, const Block* b0, const Block& delta,
                         const Block& flip_a, const Block& flip_b, uint64_t gate_index,
                         uint64_t stride, Block* c0, Block* tg, Block* te, std::size_t n) noexcept;
void garble_and_aesni(const Aes128& pi, const Block* a0, const Block* b0, const Block& delta,
                      const Block& flip_a, const Block& flip_b, uint64_t gate_index,
                      uint64_t stride, Block* c0, Block* tg, Block* te, std::size_t n) noexcept;
void garble_and_vaes(const Aes128& pi, const Block* a0, const Block* b0, const Block& delta,
                     const Block& flip_a, const Block& flip_b, uint64_t gate_index, uint64_t stride,
                     Block* c0, Block* tg, Block* te, std::size_t n) noexcept;

void eval_and_portable(const Aes128& pi, const Block* a, const Block* b, const Block* tg,
                       const Block* te, uint64_t gate_index, uint64_t stride, Block* c,
                       std::size_t n) noexcept;
void eval_and_aesni(const Aes128& pi, const Block* a, const Block* b, const Block* tg,
                    const Block* te, uint64_t gate_index, uint64_t stride, Block* c,
                    std::size_t n) noexcept;
void eval_and_vaes(const Aes128& pi, const Block* a, const Block* b, const Block* tg,
                   const Block* te, uint64_t gate_index, uint64_t stride, Block* c,
                   std::size_t n) noexcept;

}  // namespace pinfer::gc::detail
