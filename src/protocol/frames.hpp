#pragma once
// Frame types of the pinfer session protocol (one namespace of numbers for both protocols, so a
// frame of the wrong step is always a ProtocolError naming both types).
#include <cstdint>

namespace pinfer::protocol::frames {

inline constexpr uint32_t kHello = 0x100;
inline constexpr uint32_t kHelloReply = 0x101;
inline constexpr uint32_t kRequest = 0x102;
inline constexpr uint32_t kRequestAccepted = 0x103;
inline constexpr uint32_t kPhaseCost = 0x104;   // the server's seconds for the phase (JSON)
inline constexpr uint32_t kHoldings = 0x106;    // ids of the precomputes the client holds
inline constexpr uint32_t kPublished = 0x105;   // the server stored its half of a precompute
inline constexpr uint32_t kRegistered = 0x107;  // a new client id and token (registration)
inline constexpr uint32_t kQueuePlace = 0x108;  // a waiting connection's place (admission.hpp)
inline constexpr uint32_t kBusy = 0x109;        // the admission queue is full; retry after
inline constexpr uint32_t kRedirect = 0x10A;    // go to the client's home node (redirect.hpp)
inline constexpr uint32_t kHePublicKey = 0x110;
inline constexpr uint32_t kHeQuery = 0x111;
inline constexpr uint32_t kHeResponse = 0x112;
inline constexpr uint32_t kGarbledChunk = 0x120;
inline constexpr uint32_t kDecodeBits = 0x121;
inline constexpr uint32_t kMaskedInput = 0x130;
inline constexpr uint32_t kInputLabels = 0x131;  // Server-Garbler: labels of a
inline constexpr uint32_t kOutputBits = 0x132;   // Server-Garbler: colour bits of the outputs
inline constexpr uint32_t kChoiceFlips = 0x133;  // Client-Garbler: d = b xor c, packed
inline constexpr uint32_t kFlipLabels = 0x134;   // Client-Garbler: labels of d
inline constexpr uint32_t kOutputShare = 0x135;  // the server's share of the logits

}  // namespace pinfer::protocol::frames
