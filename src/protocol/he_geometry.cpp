#include "pinfer/protocol/he_geometry.hpp"

namespace pinfer::protocol {

he::LinearGeometry he_geometry(const nn::LinearOp& op) {
  if (op.kind == nn::LinearOp::Kind::fc) return he::FcGeometry{op.in_features, op.out_features};
  // One group of a grouped convolution (each group is its own HE layer over its slice of input
  // channels, never expanded to a dense kernel); the whole convolution when groups = 1.
  const nn::ConvGeometry g = op.conv.group_geometry();
  he::ConvGeometry h;
  h.in_channels = g.in_channels;
  h.in_h = g.in_h;
  h.in_w = g.in_w;
  h.out_channels = g.out_channels;
  h.kernel_h = g.kernel_h;
  h.kernel_w = g.kernel_w;
  h.stride_h = g.stride_h;
  h.stride_w = g.stride_w;
  h.pad_top = g.pad_top;
  h.pad_left = g.pad_left;
  h.pad_bottom = g.pad_bottom;
  h.pad_right = g.pad_right;
  return h;
}

}  // namespace pinfer::protocol
