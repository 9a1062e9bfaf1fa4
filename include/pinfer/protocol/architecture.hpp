#pragma once
// The public architecture of a model: everything about a LoweredModel except its weights and
// biases (shapes, geometry, stages, ring parameters). The server sends it to the client at the
// start of a session, so a client needs no copy of the model, and both sides agree on a
// fingerprint of it before any cryptography runs.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "pinfer/nn/lowered_model.hpp"

namespace pinfer::protocol {

// Encodes the architecture (no weights).
[[nodiscard]] std::vector<std::byte> encode_architecture(const nn::LoweredModel& model);
// Decodes and validates an architecture from untrusted bytes; weights and biases of the result
// are empty. Throws FormatError on malformed input or sizes beyond the caps below.
[[nodiscard]] nn::LoweredModel decode_architecture(std::span<const std::byte> bytes);
// SHA-256 (hex) of the encoded architecture.
[[nodiscard]] std::string architecture_fingerprint(const nn::LoweredModel& model);

// Caps applied when decoding: generous for every network in the paper (TinyImageNet VGG-16 has
// 14.7M weights and 2.2M ReLUs).
inline constexpr std::size_t kMaxStages = 4096;  // DenseNet-121: 717 stages, 1,252 linear ops
inline constexpr std::size_t kMaxLinearOps = 4096;
inline constexpr std::size_t kMaxDim = 1 << 16;
inline constexpr std::size_t kMaxActivationElements = std::size_t{1} << 26;
// Sum over all activations: the client holds a mask and shares of each, so this (not the count
// times the per-activation cap, 2^36) bounds what an architecture can make it allocate.
inline constexpr std::size_t kMaxTotalActivationElements = std::size_t{1} << 28;
inline constexpr std::size_t kMaxArchitectureBytes = 1 << 20;

}  // namespace pinfer::protocol
