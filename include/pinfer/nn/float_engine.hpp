#pragma once
// The float plaintext engine: runs the IR layer by layer in single precision (batch size 1).
// It is the reference the fixed-point engine is compared with (top-1 agreement, quantization).
#include "pinfer/core/tensor.hpp"
#include "pinfer/nn/model.hpp"

namespace pinfer::nn {

// The output of model.output() for an input with the element count of model.input_shape().
// Throws InvalidArgument if the model has no weights or the input size differs.
[[nodiscard]] FloatTensor run_float(const Model& model, const FloatTensor& input);

}  // namespace pinfer::nn
