#pragma once
// Folds every BatchNorm that directly follows a Conv or Linear layer (whose output nothing else
// reads) into that layer, in float, before quantization:
//   s = gamma / sqrt(var + eps);  W'[o] = s[o] * W[o];  b'[o] = s[o] * (b[o] - mean[o]) + beta[o].
// A BatchNorm anywhere else is left in place (lowering then reports it as unsupported).
#include "pinfer/nn/model.hpp"

namespace pinfer::nn {

// Returns an equivalent model without the foldable BatchNorm layers. Requires weights.
[[nodiscard]] Model fold_batch_norm(const Model& model);

}  // namespace pinfer::nn
