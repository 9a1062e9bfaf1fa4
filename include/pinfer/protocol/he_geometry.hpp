#pragma once
// The HE engine's view of a model's linear layer: its geometry (the protocol and `pinfer bench
// he` evaluate exactly these).
#include "pinfer/he/linear.hpp"
#include "pinfer/nn/lowered_model.hpp"

namespace pinfer::protocol {

// A grouped convolution's geometry is that of one group (evaluated op.conv.groups times).
[[nodiscard]] he::LinearGeometry he_geometry(const nn::LinearOp& op);

}  // namespace pinfer::protocol
