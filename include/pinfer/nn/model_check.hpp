#pragma once
// What quantization costs on real data, before serving (docs/MODELS.md, "Checking a model"):
// the smallest headroom of the fixed-point ring over a set of inputs, the stage where it is
// smallest, and the top-1 agreement of the fixed-point engine with the float model (and both
// accuracies, with labels). Used by `pinfer model check`, `pinfer serve` (which refuses a
// calibration input that overflows the ring) and pinfer.Model.check.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pinfer/core/tensor.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/nn/model.hpp"

namespace pinfer::nn {

// Headroom of the l-bit ring over some inputs: l - 1 - log2(max |y|) for the largest |y| of any
// stage sum (or encoded input), computed exactly in Z_2^64. <= 0: that input wrapped the ring,
// so the l-bit engine (and the protocols) computed something else than the fixed-point model.
struct RingHeadroom {
  double margin_bits = 0;         // the smallest over every input (l - 1 if all are zero)
  std::size_t worst_input = 0;    // the input where it is smallest
  std::size_t worst_stage = 0;    // its stage (model.stages index); kInputStage: the input itself
  std::string worst_layer;        // that stage's first linear op name, or "input"
  std::vector<double> per_input;  // the margin of each input
  std::size_t wrapped = 0;        // inputs with margin <= 0

  static constexpr std::size_t kInputStage = static_cast<std::size_t>(-1);
};
// Throws InvalidArgument on an empty set or an input of the wrong size.
[[nodiscard]] RingHeadroom ring_headroom(const LoweredModel& model,
                                         std::span<const FloatTensor> inputs);

// The headroom, or throws Unsupported naming the input, stage, layer and margin if some input
// wraps the ring (`what` names the inputs in the message, e.g. "calibration input").
RingHeadroom require_ring_headroom(const LoweredModel& model, std::span<const FloatTensor> inputs,
                                   const std::string& what = "calibration input");

struct ModelCheck {
  std::size_t samples = 0;
  double agreement = 0;                  // fixed-point top-1 == float top-1
  std::optional<double> accuracy;        // fixed-point top-1 == label (with labels)
  std::optional<double> float_accuracy;  // float top-1 == label (with labels)
  RingHeadroom headroom;
};

// Runs both engines on every input. `labels` empty: no accuracies; else one per input.
// Throws InvalidArgument on an empty set, a size mismatch between inputs and labels or an input
// of the wrong shape.
[[nodiscard]] ModelCheck check_model(const Model& model, const LoweredModel& lowered,
                                     std::span<const FloatTensor> inputs,
                                     std::span<const int64_t> labels = {});

}  // namespace pinfer::nn
