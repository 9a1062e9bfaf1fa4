#pragma once
// Small random-weight lowered models for protocol tests: every stage kind (ReLU, residual add
// of two convs, identity shortcut, stride 2, max pooling, FC).
#include <cstdint>

#include <string>
#include "pinfer/core/prg.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/protocol_kind.hpp"

namespace pinfer::test_models {

inline nn::LinearOp random_conv(const Ring& ring, Prg& prg, std::size_t input, std::size_t c_in,
                                std::size_t hw, std::size_t c_out, std::size_t k,
                                std::size_t stride, std::size_t pad, unsigned f) {
  nn::LinearOp op;
  op.kind = nn::LinearOp::Kind::conv;
  op.name = "conv" + std::to_string(input) + "_" + std::to_string(k);
  op.input = input;
  nn::ConvGeometry& g = op.conv;
  g.in_channels = c_in;
  g.in_h = g.in_w = hw;
  g.out_channels = c_out;
  g.kernel_h = g.kernel_w = k;
  g.stride_h = g.stride_w = stride;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = pad;
  g.infer_output_size();
  op.weight = RingTensor(Shape{c_out, c_in, k, k});
  // Weights in [-2^f/2, 2^f/2): realistic magnitudes at scale 2^f (results stay in range).
  for (auto& w : op.weight.values()) {
    w = ring.from_signed(static_cast<int64_t>(prg.uniform_below(uint64_t{1} << f)) -
                         (int64_t{1} << (f - 1)));
  }
  op.bias = RingTensor(Shape{c_out});
  for (auto& b : op.bias.values()) {
    b = ring.from_signed(static_cast<int64_t>(prg.uniform_below(uint64_t{1} << (2 * f))) -
                         (int64_t{1} << (2 * f - 1)));
  }
  return op;
}

// input 1x2x6x6 -> conv3x3 relu -> [conv3x3/2 + conv1x1/2] relu -> [conv3x3 + identity]
// relu+maxpool2 -> fc 16->5.
inline nn::LoweredModel small_test_model(uint64_t seed, unsigned l = 32, unsigned f = 8,
                                         std::size_t pool_stride = 1) {
  const std::size_t pooled = (3 - 2) / pool_stride + 1;
  Prg prg = Prg::from_seed(Block(seed, 0x7e57));
  const Ring ring(l);
  nn::LoweredModel m;
  m.name = "test-net";
  m.l = l;
  m.f = f;
  m.input_shape = Shape{1, 2, 6, 6};
  m.activation_shapes = {m.input_shape, Shape{1, 4, 6, 6}, Shape{1, 4, 3, 3},
                         Shape{1, 4, pooled, pooled}, Shape{1, 5}};
  m.linear_ops.push_back(random_conv(ring, prg, 0, 2, 6, 4, 3, 1, 1, f));
  m.linear_ops.push_back(random_conv(ring, prg, 1, 4, 6, 4, 3, 2, 1, f));
  m.linear_ops.push_back(random_conv(ring, prg, 1, 4, 6, 4, 1, 2, 0, f));
  m.linear_ops.push_back(random_conv(ring, prg, 2, 4, 3, 4, 3, 1, 1, f));
  nn::LinearOp fc;
  fc.kind = nn::LinearOp::Kind::fc;
  fc.name = "fc";
  fc.input = 3;
  fc.in_features = 4 * pooled * pooled;
  fc.out_features = 5;
  fc.weight = RingTensor(Shape{5, fc.in_features});
  for (auto& w : fc.weight.values()) {
    w = ring.from_signed(static_cast<int64_t>(prg.uniform_below(uint64_t{1} << f)) -
                         (int64_t{1} << (f - 1)));
  }
  fc.bias = RingTensor(Shape{5});
  m.linear_ops.push_back(std::move(fc));

  nn::Stage s0;
  s0.linear_ops = {0};
  s0.pre_shape = Shape{1, 4, 6, 6};
  s0.nonlinear.kind = nn::NonLinear::Kind::relu;
  s0.output = 1;
  nn::Stage s1;
  s1.linear_ops = {1, 2};
  s1.pre_shape = Shape{1, 4, 3, 3};
  s1.nonlinear.kind = nn::NonLinear::Kind::relu;
  s1.output = 2;
  nn::Stage s2;
  s2.linear_ops = {3};
  s2.identity_inputs = {2};
  s2.pre_shape = Shape{1, 4, 3, 3};
  s2.nonlinear = nn::NonLinear::max_pool(2, pool_stride);
  s2.output = 3;
  nn::Stage s3;
  s3.linear_ops = {4};
  s3.pre_shape = Shape{1, 5};
  s3.nonlinear.kind = nn::NonLinear::Kind::none;
  s3.output = 4;
  m.stages = {s0, s1, s2, s3};
  nn::validate(m);
  return m;
}

// A reproducible input with values in [0, 1).
inline FloatTensor random_input(const Shape& shape, uint64_t seed) {
  Prg prg = Prg::from_seed(Block(seed, 99));
  FloatTensor x(shape);
  for (auto& v : x.values()) v = static_cast<float>(prg.uniform_below(1000)) / 1000.0f;
  return x;
}

// Test-name suffix for a protocol parameter.
struct ProtocolName {
  template <typename Info>
  std::string operator()(const Info& info) const {
    return info.param == protocol::ProtocolKind::server_garbler ? "ServerGarbler" : "ClientGarbler";
  }
};

}  // namespace pinfer::test_models
