#pragma once
// Base oblivious transfer on ristretto255: the Naor-Pinkas protocol in the random-oracle model.
//
// Naor, Pinkas, "Efficient Oblivious Transfer Protocols", SODA 2001, Section 3 (the
// two-message 1-out-of-2 OT), run as a *random* OT for `count` instances at once: the sender
// ends with two random 128-bit keys per instance, the receiver with the key for its choice
// bit. Semi-honest security: receiver privacy is perfect (the receiver's message is a uniform
// group element whatever its choice), sender privacy reduces to CDH in ristretto255 with the
// key-derivation hash modelled as a random oracle. See docs/OT.md for the message flow and
// why one (C, g^r) pair is shared by all instances.
//
// Wire (frame header 12 B each): sender -> receiver: C || g^r (64 B);
// receiver -> sender: count encoded points (32 * count B). No third message.
// Thread safety: none; each call owns the channel for its duration.
#include <cstddef>
#include <cstdint>
#include <span>

#include "pinfer/core/block.hpp"
#include "pinfer/core/channel.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer::ot {

// Most instances one base-OT call accepts (IKNP needs 128).
inline constexpr std::size_t kMaxBaseOts = 1024;
// Bytes on the wire, frame headers included.
[[nodiscard]] constexpr uint64_t base_ot_sender_bytes() {
  return kFrameHeaderBytes + 64;
}
[[nodiscard]] constexpr uint64_t base_ot_receiver_bytes(std::size_t count) {
  return kFrameHeaderBytes + 32 * static_cast<uint64_t>(count);
}

// Random-OT sender. Secret outputs: m0_out[i], m1_out[i] (i < count = m0_out.size()).
// Throws InvalidArgument if the spans differ in size or count is 0 or exceeds kMaxBaseOts;
// FormatError if a received point is not a canonical ristretto255 encoding; ProtocolError if
// it is the identity; IoError from the channel.
void base_ot_send(Channel& channel, Prg& prg, std::span<Block> m0_out, std::span<Block> m1_out);

// Random-OT receiver. Secret inputs: choices (0/1 per byte); secret output: out[i] =
// m_{choices[i]}[i]. Throws InvalidArgument on mismatched sizes or a choice not 0/1,
// FormatError / ProtocolError on a malformed or degenerate sender message, IoError.
void base_ot_receive(Channel& channel, Prg& prg, std::span<const uint8_t> choices,
                     std::span<Block> out);

}  // namespace pinfer::ot
