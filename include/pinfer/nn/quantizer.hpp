#pragma once
// Lowering and quantization: IR (float) -> LoweredModel (fixed point over Z_2^l).
//
// Lowering (docs/MODELS.md "Lowering"): BatchNorm is folded into the preceding conv / linear
// layer; an AveragePool / GlobalAveragePool followed (possibly via Flatten) by a Linear layer is
// folded into it as one larger fully connected layer over the un-pooled activation; MaxPool must
// directly follow a ReLU (or precede one); Flatten is free; Add of linear outputs and ReLU outputs
// becomes one stage sum. Anything else throws Unsupported naming the layer.
//
// Quantization: weights round(w * 2^f), biases round(b * 2^(2f)), inputs round(x * 2^f).
// choose_quantization picks (l, f) from a calibration set (the rule is in docs/MODELS.md):
//   f: the given one, else the smallest f in [min_frac_bits, max_frac_bits] whose fixed-point top-1
//      agrees with the float model on >= min_agreement of the calibration inputs;
//   l: 1 (sign) + ceil(log2(max |y| + 1)) + margin_bits, where max |y| is the largest stage sum
//      (ring units at scale 2^(2f)) or encoded input over the calibration set, at least 2f + 2.
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "pinfer/core/tensor.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/nn/model.hpp"

namespace pinfer::nn {

// The lowered structure with float parameters (before choosing l and f).
struct FloatLinearParams {
  std::vector<float> weight;  // same layout as LinearOp::weight
  std::vector<float> bias;    // one per output channel / feature
};
struct LoweredPlan {
  LoweredModel structure;                 // l = f = 0, empty weight / bias tensors
  std::vector<FloatLinearParams> params;  // one per structure.linear_ops
};

// Folds BatchNorm and lowers the model's structure. Throws Unsupported naming the layer if the
// graph does not fit the lowered form, InvalidArgument if the model has no weights.
[[nodiscard]] LoweredPlan plan_lowering(const Model& model);

// Quantizes a plan at (l, f). Throws InvalidArgument if a weight or bias does not fit Z_2^l or
// 2f + 2 > l.
[[nodiscard]] LoweredModel quantize(const LoweredPlan& plan, unsigned l, unsigned f);

struct QuantizationOptions {
  std::optional<unsigned> frac_bits;  // fixed f; otherwise searched
  unsigned min_frac_bits = 8;
  unsigned max_frac_bits = 14;
  double min_agreement = 0.99;  // top-1 agreement with the float model on the calibration set
  unsigned margin_bits = 3;     // headroom above the largest calibrated |y| (x8)
  unsigned max_ring_bits = 64;
};

struct QuantizationChoice {
  unsigned l = 0, f = 0;
  double max_abs_preactivation_log2 = 0;  // log2 of the largest |y| (ring units)
  double margin_bits = 0;                 // l - 1 - log2(max |y|)
  double top1_agreement = 0;              // fixed-point vs float on the calibration set
  std::size_t calibration_samples = 0;
};

// Chooses (l, f) per the rule above. Throws InvalidArgument on an empty calibration set,
// Unsupported if no l <= max_ring_bits suffices.
[[nodiscard]] QuantizationChoice choose_quantization(const Model& model, const LoweredPlan& plan,
                                                     std::span<const FloatTensor> calibration,
                                                     const QuantizationOptions& options = {});

// plan_lowering + choose_quantization + quantize, with the report stored in the result.
[[nodiscard]] LoweredModel lower(const Model& model, std::span<const FloatTensor> calibration,
                                 const QuantizationOptions& options = {});

}  // namespace pinfer::nn
