#pragma once
// Which HE key each homomorphic layer uses (docs/HE.md, "Key schedule").
//
// Noise flooding bounds what the client learns about W by 2^-40 only while at most
// 2^max_revealed_log2 = 2^22 flooded coefficients are revealed under one key. Every output of a
// linear layer is one revealed coefficient, so a network with more outputs than that in total
// (ResNet-50 at ImageNet size) needs several keys per precompute. The schedule is public and
// deterministic: both parties walk the HE layers (each group of a grouped convolution is one
// layer) in the order their queries go out and start a fresh key whenever the next layer would
// take the current key past the budget. The client generates each key and sends its public key
// just before the first query under it; the server reads it at the same point.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pinfer/nn/lowered_model.hpp"

namespace pinfer::protocol::detail {

struct HeKeySchedule {
  uint64_t budget = 0;                        // revealed coefficients allowed per key
  std::vector<std::vector<uint32_t>> key_of;  // [op][group] -> key index
  std::vector<uint64_t> revealed;             // [key] -> coefficients revealed under it

  [[nodiscard]] std::size_t keys() const noexcept { return revealed.size(); }
  // The first layer under a key: its public key goes out just before this layer's query.
  [[nodiscard]] bool starts_key(std::size_t op, std::size_t group) const;
};

// Coefficients one HE layer reveals to the client: one per output (of one group).
[[nodiscard]] uint64_t revealed_coefficients(const nn::LinearOp& op);

// Throws InvalidArgument for budget 0, Unsupported naming the layer if one layer alone reveals
// more than `budget` coefficients.
[[nodiscard]] HeKeySchedule plan_he_keys(const nn::LoweredModel& model, uint64_t budget);

}  // namespace pinfer::protocol::detail
