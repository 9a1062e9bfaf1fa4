#pragma once
// Random OT and chosen-message OT on top of IKNP correlated OT.
//
// Correlation is broken with the tweakable circular-correlation-robust hash of Guo, Katz,
// Wang, Yu, "Efficient and Secure Multiparty Computation from Fixed-Key Block Ciphers",
// IEEE S&P 2020, Section 7: H(x, i) = pi(pi(x) ^ i) ^ pi(x) with pi fixed-key AES-128 and
// the tweak i the OT's index in the stream (unique per CotSender/CotReceiver pair).
//   random OT:  sender m0_j = H(k0_j, j), m1_j = H(k0_j ^ Delta, j); receiver H(out_j, j).
//   chosen OT:  sender sends y0 = m0 ^ H(k0_j, j), y1 = m1 ^ H(k0_j ^ Delta, j) (32 B per OT
//               on top of the 16 B of the COT); receiver m_b = y_b ^ H(out_j, j).
// Both parties must call the matching functions with the same sizes in the same order.
// Throws what CotSender/CotReceiver::extend throw; InvalidArgument on mismatched sizes.
#include <cstdint>
#include <span>

#include "pinfer/core/block.hpp"
#include "pinfer/ot/cot.hpp"

namespace pinfer::ot {

// Secret outputs: m0_out, m1_out (same size).
void rot_send(CotSender& cot, std::span<Block> m0_out, std::span<Block> m1_out);
// Secret: choice_bits (0/1 per byte), out.
void rot_receive(CotReceiver& cot, std::span<const uint8_t> choice_bits, std::span<Block> out);

// Secret inputs: m0, m1 (same size).
void ot_send(CotSender& cot, std::span<const Block> m0, std::span<const Block> m1);
// Secret: choice_bits, out[j] = choice_bits[j] ? m1[j] : m0[j].
// Throws FormatError if the sender's frame has the wrong size.
void ot_receive(CotReceiver& cot, std::span<const uint8_t> choice_bits, std::span<Block> out);

// Bytes the sender sends for ot_send of n messages pairs (frame headers included); the
// receiver additionally sends cot_extend_receiver_bytes(n).
[[nodiscard]] uint64_t ot_send_bytes(uint64_t n);

}  // namespace pinfer::ot
