#pragma once
// Private three-halves kernels (Rosulek and Roy, "Three halves make a whole? Beating the
// half-gates lower bound for garbled circuits", CRYPTO 2021): one AND gate of the circuit for n
// instances at once. docs/GC.md derives every constant below.
//
// Labels are sliced into halves X = (X_L, X_R) = (lo, hi) 64-bit words; Delta's colour bit is
// lsb(Delta_L) = 1. Per gate (index g, tweaks 3g, 3g + 1, 3g + 2) the garbler sends three
// half ciphertexts G0, G1, G2 and five control bits z0..z4 (1.5 kappa + 5 bits).
// Hash: H(X, t) = TMMO(X, t) = pi(pi(X) ^ t) ^ pi(X) (GKWY20 Sec. 7.4); the half h(X, t) is its
// low word and the control-bit mask c(X, t) is bit 0 of its high word.
//
// Evaluator with active labels A, B, colours i = lsb(A), j = lsb(B):
//   hA = h(A, 3g), hB = h(B, 3g+1), hX = h(A ^ B, 3g+2) (and cA, cB, cX)
//   r0 = z0 ^ i z2 ^ (i^j) z4 ^ cA ^ cX,   r1 = z1 ^ j z3 ^ (i^j) z4 ^ cB ^ cX
//   C_L = hA ^ hX ^ i G0 ^ (i^j) G2 ^ r0 (A_L^A_R^B_L) ^ r1 (A_L^B_R) ^ (1^i) B_L
//   C_R = hB ^ hX ^ j G1 ^ (i^j) G2 ^ r0 (A_L^B_R) ^ r1 (A_R^B_L^B_R) ^ (1^j) A_R
// i.e. C = M h + V_ij G + R_ij (A, B) with R_ij = r0 S1 ^ r1 S2 ^ Rp_ij (the paper's decoding
// matrices; S1 = [1110; 1001], S2 = [1001; 0111], Rp_00 = [0010; 0100], Rp_01 = [0010; 0000],
// Rp_10 = [0000; 0100], Rp_11 = 0 over the columns A_L A_R B_L B_R).
// Garbler: colour-0 labels Ac, Bc; the AND's 1 sits at colours (a, b) = (1 ^ pa, 1 ^ pb); two
// secret random coins rho1, rho2 per gate choose R among the paper's randomised matrices.
// Secret: labels, delta, coins; the colour bits and coins select with masks, never branches or
// table lookups.
#include <cstddef>
#include <cstdint>

#include "pinfer/core/aes.hpp"
#include "pinfer/core/detail/cpu_features.hpp"

namespace pinfer::gc::detail {

// 64-bit words of one control-bit plane of n instances (planes are word-aligned).
[[nodiscard]] constexpr std::size_t plane_words(std::size_t n) {
  return (n + 63) / 64;
}
// Material bytes of one AND gate for n instances: G0[n], G1[n], G2[n] (8 B each), then the five
// control-bit planes (bit i of plane p is z_p of instance i).
[[nodiscard]] constexpr std::size_t three_halves_gate_bytes(std::size_t n) {
  return 24 * n + 5 * 8 * plane_words(n);
}

// Scratch blocks the kernels need for n instances.
[[nodiscard]] constexpr std::size_t three_halves_scratch_blocks(std::size_t n) {
  return 16 * n;
}

// TMMO over m labels in place, tweak t_k = tweaks[k] in the low word:
// x[k] = pi(pi(x[k]) ^ t_k) ^ pi(x[k]). The portable one needs m blocks of scratch.
void tmmo_inplace_portable(const Aes128& pi, Block* x, const uint64_t* tweaks, std::size_t m,
                           Block* scratch) noexcept;
void tmmo_inplace_aesni(const Aes128& pi, Block* x, const uint64_t* tweaks, std::size_t m) noexcept;
void tmmo_inplace_vaes(const Aes128& pi, Block* x, const uint64_t* tweaks, std::size_t m) noexcept;

// coins[i] in {0..3}: rho1 = bit 0, rho2 = bit 1 of instance i (secret, uniform).
// material: one gate's bytes as u64 words (three_halves_gate_bytes(n) / 8), fully written.
void garble_and_three_halves(const Aes128& pi, CpuPath path, const Block* a0, const Block* b0,
                             const Block& delta, const Block& flip_a, const Block& flip_b,
                             uint64_t gate_index, uint64_t stride, const uint8_t* coins, Block* c0,
                             uint64_t* material, std::size_t n, Block* scratch) noexcept;

// The same garbler (same bytes) with AVX-512 slicing arithmetic; path vaes only.
void garble_and_three_halves_vaes(const Aes128& pi, const Block* a0, const Block* b0,
                                  const Block& delta, const Block& flip_a, const Block& flip_b,
                                  uint64_t gate_index, uint64_t stride, const uint8_t* coins,
                                  Block* c0, uint64_t* material, std::size_t n,
                                  Block* scratch) noexcept;

// The same evaluator with AVX-512 slicing arithmetic; path vaes only.
void eval_and_three_halves_vaes(const Aes128& pi, const Block* a, const Block* b,
                                uint64_t gate_index, uint64_t stride, const uint64_t* material,
                                Block* c, std::size_t n, Block* scratch) noexcept;

void eval_and_three_halves(const Aes128& pi, CpuPath path, const Block* a, const Block* b,
                           uint64_t gate_index, uint64_t stride, const uint64_t* material, Block* c,
                           std::size_t n, Block* scratch) noexcept;

}  // namespace pinfer::gc::detail
