#pragma once
// Precomputed (derandomized) correlated OT for the online phase.
//
// Offline, the parties run CotReceiver::extend_random: the receiver holds a random choice c_j
// and m_j = k0_j ^ c_j * Delta, the sender holds k0_j. Online, when the receiver learns its
// real choice b_j, it sends d_j = b_j ^ c_j (1 bit per OT, packed), and the sender answers
// with one 128-bit correction e_j = L0_j ^ k0_j ^ d_j * Delta, where L0_j is the zero-label the
// receiver should get a label of. Then m_j ^ e_j = L0_j ^ b_j * Delta (Beaver, "Precomputing
// Oblivious Transfer", CRYPTO 1995). d_j is a one-time pad of b_j with c_j, so the sender
// learns nothing; e_j ^ m_j is exactly the wanted label, so the receiver learns nothing else.
// Each precomputed OT must be used once (reuse would reveal b ^ b').
// All spans of one call have the same length n (d bits: packed, (n + 7) / 8 bytes, bit j of
// byte j / 8 is d_j, unused high bits zero); InvalidArgument otherwise.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pinfer/core/block.hpp"
#include "pinfer/core/channel.hpp"
#include "pinfer/ot/cot.hpp"

namespace pinfer::ot {

// OTs per online frame (4 MiB of corrections).
inline constexpr std::size_t kDerandomizeFrameOts = std::size_t{1} << 18;

// Receiver: packed d = b ^ c. Secret: b, c (0/1 per byte); d is safe to send.
[[nodiscard]] std::vector<std::byte> derandomize_choices(std::span<const uint8_t> b,
                                                         std::span<const uint8_t> c);
// Sender: corrections e_j = L0_j ^ k0_j ^ d_j * Delta. Secret: k0, zero_labels, delta.
// Throws FormatError if unused high bits of the last d byte are set.
void derandomize_corrections(std::span<const Block> k0, std::span<const Block> zero_labels,
                             const Block& delta, std::span<const std::byte> d_packed,
                             std::span<Block> corrections_out);
// Receiver: label_j = m_j ^ e_j. Secret: m, labels_out.
void derandomize_labels(std::span<const Block> m, std::span<const Block> corrections,
                        std::span<Block> labels_out);

// The same over a channel, in frames of kDerandomizeFrameOts OTs each way. Throw
// InvalidArgument on mismatched sizes or a channel whose max_frame_bytes < kOtMinFrameBytes;
// FormatError / ProtocolError on a malformed peer frame; IoError.
// Receiver: sends packed d, receives the corrections, writes the labels.
void derandomize_receive(Channel& channel, std::span<const uint8_t> b, std::span<const uint8_t> c,
                         std::span<const Block> m, std::span<Block> labels_out);
// Sender: receives packed d for n = k0.size() OTs, sends the corrections.
void derandomize_send(Channel& channel, std::span<const Block> k0,
                      std::span<const Block> zero_labels, const Block& delta);

// Online bytes (frame headers included) for n OTs: receiver -> sender and sender -> receiver.
[[nodiscard]] uint64_t derandomize_receiver_bytes(uint64_t n);
[[nodiscard]] uint64_t derandomize_sender_bytes(uint64_t n);

}  // namespace pinfer::ot
