#include "pinfer/nn/fixed_point_engine.hpp"

#include <gtest/gtest.h>

#include <random>

#include "fast_path_skip.hpp"
#include "nn/linear_dispatch.hpp"
#include "pinfer/core/detail/cpu_features.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::nn {
namespace {

bool avx512_kernels_run() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl;
}

void report_avx512_skip() {
  if (!avx512_kernels_run()) ::pinfer::test::report_unrun_paths({"avx512 ring kernels"});
}

RingTensor ring_tensor(const Ring& ring, Shape shape, std::vector<int64_t> values) {
  std::vector<uint64_t> v;
  for (int64_t x : values) v.push_back(ring.from_signed(x));
  return RingTensor(std::move(shape), std::move(v));
}

LinearOp conv_op(std::size_t input, ConvGeometry g, RingTensor w, RingTensor b) {
  LinearOp op;
  op.kind = LinearOp::Kind::conv;
  g.infer_output_size();
  op.conv = g;
  op.input = input;
  op.weight = std::move(w);
  op.bias = std::move(b);
  return op;
}

// A three-stage network small enough to evaluate by hand (values in the comments), over Z_2^8
// with f = 2, so the last layer wraps around.
LoweredModel tiny_network() {
  const Ring ring(8);
  LoweredModel m;
  m.name = "tiny";
  m.l = 8;
  m.f = 2;
  m.input_shape = Shape{1, 1, 3, 3};
  // Stage 0: conv 1->2, 2x2 kernel, then ReLU.
  ConvGeometry g0{
      .in_channels = 1, .in_h = 3, .in_w = 3, .out_channels = 2, .kernel_h = 2, .kernel_w = 2};
  m.linear_ops.push_back(conv_op(0, g0, ring_tensor(ring, {2, 1, 2, 2}, {1, 0, 0, -1, 2, 1, -1, 1}),
                                 ring_tensor(ring, {2}, {5, 3})));
  // Stage 1: 1x1 conv 2->2 plus the identity shortcut, ReLU, 2x2 max pool.
  ConvGeometry g1{
      .in_channels = 2, .in_h = 2, .in_w = 2, .out_channels = 2, .kernel_h = 1, .kernel_w = 1};
  m.linear_ops.push_back(conv_op(1, g1, ring_tensor(ring, {2, 2, 1, 1}, {1, -1, 2, 1}),
                                 ring_tensor(ring, {2}, {0, 8})));
  // Stage 2: fully connected 2 -> 3, the logits.
  LinearOp fc;
  fc.kind = LinearOp::Kind::fc;
  fc.in_features = 2;
  fc.out_features = 3;
  fc.input = 2;
  fc.weight = ring_tensor(ring, {3, 2}, {1, 2, -3, 0, 100, 7});
  fc.bias = ring_tensor(ring, {3}, {1, 2, 3});
  m.linear_ops.push_back(fc);

  Stage s0;
  s0.linear_ops = {0};
  s0.pre_shape = Shape{1, 2, 2, 2};
  s0.nonlinear = NonLinear::of(NonLinear::Kind::relu);
  s0.output = 1;
  Stage s1;
  s1.linear_ops = {1};
  s1.identity_inputs = {1};
  s1.pre_shape = Shape{1, 2, 2, 2};
  s1.nonlinear = NonLinear::max_pool(2, 2);
  s1.output = 2;
  Stage s2;
  s2.linear_ops = {2};
  s2.pre_shape = Shape{1, 3};
  s2.nonlinear = NonLinear::of(NonLinear::Kind::none);
  s2.output = 3;
  m.stages = {s0, s1, s2};
  m.activation_shapes = {m.input_shape, Shape{1, 2, 2, 2}, Shape{1, 2, 1, 1}, Shape{1, 3}};
  return m;
}

TEST(FixedPointEngine, TinyNetworkMatchesHandComputation) {
  const LoweredModel m = tiny_network();
  validate(m);
  const Ring ring(8);
  const RingTensor x = ring_tensor(ring, {1, 1, 3, 3}, {1, -2, 3, 0, 4, -1, 2, 1, 0});
  const FixedPointTrace t = trace_fixed_point(m, x);
  // y0 ch0 = x[i][j] - x[i+1][j+1] + 5 = 2 4 4 9; ch1 = 2x[i][j] + x[i][j+1] - x[i+1][j]
  // + x[i+1][j+1] + 3 = 7 -3 6 9.
  EXPECT_EQ(t.preactivations[0], ring_tensor(ring, {1, 2, 2, 2}, {2, 4, 4, 9, 7, -3, 6, 9}));
  // ReLU(floor(y / 4)): floor(-3/4) = -1 -> 0.
  EXPECT_EQ(t.activations[1], ring_tensor(ring, {1, 2, 2, 2}, {0, 1, 1, 2, 1, 0, 1, 2}));
  // y1 ch0 = a0 - a1 + 4 a0 = -1 5 4 8; ch1 = 2 a0 + a1 + 8 + 4 a1 = 13 10 15 22.
  EXPECT_EQ(t.preactivations[1], ring_tensor(ring, {1, 2, 2, 2}, {-1, 5, 4, 8, 13, 10, 15, 22}));
  // max(ReLU(floor(y / 4))): ch0 max(0, 1, 1, 2) = 2; ch1 max(3, 2, 3, 5) = 5.
  EXPECT_EQ(t.activations[2], ring_tensor(ring, {1, 2, 1, 1}, {2, 5}));
  // Logits: 2 + 10 + 1 = 13, -6 + 2 = -4, 200 + 35 + 3 = 238 = -18 mod 2^8.
  const RingTensor logits = run_fixed_point(m, x);
  EXPECT_EQ(logits, ring_tensor(ring, {1, 3}, {13, -4, 238}));
  EXPECT_EQ(t.activations[3], logits);
  const std::vector<double> decoded = decode_logits(m, logits);
  EXPECT_DOUBLE_EQ(decoded[0], 13.0 / 16);
  EXPECT_DOUBLE_EQ(decoded[1], -4.0 / 16);
  EXPECT_DOUBLE_EQ(decoded[2], -18.0 / 16);

  const LoweredCounts c = count(m);
  EXPECT_EQ(c.relus, 16u);
  EXPECT_EQ(c.comparisons, 2u * 3);
  EXPECT_EQ(c.macs, 2u * 2 * 2 * 4 + 2u * 4 * 2 + 6);
  EXPECT_EQ(c.params, 8u + 2 + 4 + 2 + 6 + 3);
}

TEST(FixedPointEngine, EncodeInputRoundsAtScaleF) {
  const LoweredModel m = tiny_network();
  FloatTensor x(Shape{1, 1, 3, 3}, {0.25f, -0.5f, 0.75f, 0, 1, -0.25f, 0.5f, 0.3f, 0.1f});
  const RingTensor e = encode_input(m, x);
  EXPECT_EQ(e, ring_tensor(Ring(8), {1, 1, 3, 3}, {1, -2, 3, 0, 4, -1, 2, 1, 0}));
  EXPECT_THROW((void)encode_input(m, FloatTensor(Shape{1, 1, 2, 2})), InvalidArgument);
}

// The naive definition of a zero-padded convolution, for random geometries.
RingTensor naive_conv(const Ring& ring, const LinearOp& op, const RingTensor& x) {
  const ConvGeometry& g = op.conv;
  RingTensor out(op.output_shape());
  for (std::size_t o = 0; o < g.out_channels; ++o) {
    for (std::size_t oh = 0; oh < g.out_h; ++oh) {
      for (std::size_t ow = 0; ow < g.out_w; ++ow) {
        uint64_t acc = op.bias[o];
        for (std::size_t c = 0; c < g.in_channels; ++c) {
          for (std::size_t kh = 0; kh < g.kernel_h; ++kh) {
            for (std::size_t kw = 0; kw < g.kernel_w; ++kw) {
              const long ih =
                  static_cast<long>(oh * g.stride_h + kh) - static_cast<long>(g.pad_top);
              const long iw =
                  static_cast<long>(ow * g.stride_w + kw) - static_cast<long>(g.pad_left);
              if (ih < 0 || iw < 0 || ih >= static_cast<long>(g.in_h) ||
                  iw >= static_cast<long>(g.in_w)) {
                continue;
              }
              acc = ring.add(acc, ring.mul(op.weight.at(o, c, kh, kw), x.at(0, c, ih, iw)));
            }
          }
        }
        out.at(0, o, oh, ow) = acc;
      }
    }
  }
  return out;
}

TEST(FixedPointEngine, ConvolutionMatchesDefinitionOnRandomGeometries) {
  const unsigned seed = 1234;
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 60; ++trial) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " trial " + std::to_string(trial));
    const Ring ring(16 + trial % 49);  // both the 32-bit (l <= 32) and 64-bit lanes
    ConvGeometry g;
    g.in_channels = 1 + rng() % 3;
    g.in_h = 1 + rng() % 7;
    g.in_w = 1 + rng() % 7;
    g.out_channels = 1 + rng() % 3;
    g.kernel_h = 1 + rng() % 3;
    g.kernel_w = 1 + rng() % 3;
    g.stride_h = 1 + rng() % 3;
    g.stride_w = 1 + rng() % 3;
    g.pad_top = rng() % 3;
    g.pad_left = rng() % 3;
    g.pad_bottom = rng() % 3;
    g.pad_right = rng() % 3;
    if (g.in_h + g.pad_top + g.pad_bottom < g.kernel_h ||
        g.in_w + g.pad_left + g.pad_right < g.kernel_w) {
      continue;
    }
    RingTensor w(Shape{g.out_channels, g.in_channels, g.kernel_h, g.kernel_w});
    RingTensor b(Shape{g.out_channels});
    RingTensor x(Shape{1, g.in_channels, g.in_h, g.in_w});
    for (uint64_t& v : w.span()) v = ring.reduce(rng());
    for (uint64_t& v : b.span()) v = ring.reduce(rng());
    for (uint64_t& v : x.span()) v = ring.reduce(rng());
    const LinearOp op = conv_op(0, g, w, b);
    const RingTensor want = naive_conv(ring, op, x);
    EXPECT_EQ(apply_linear(ring, op, x), want);
    EXPECT_EQ(detail::apply_linear_on(detail::RingKernel::portable, ring, op, x, true), want);
    if (avx512_kernels_run()) {
      EXPECT_EQ(detail::apply_linear_on(detail::RingKernel::avx512, ring, op, x, true), want);
    }
    // Without the bias the map is linear mod 2^l: W(x - r) + W r = W x (what shares rely on).
    RingTensor r(x.shape());
    for (uint64_t& v : r.span()) v = ring.reduce(rng());
    RingTensor sum = apply_linear(ring, op, sub(ring, x, r), false);
    add_inplace(ring, sum, apply_linear(ring, op, r, false));
    EXPECT_EQ(sum, apply_linear(ring, op, x, false));
  }
  report_avx512_skip();
}

TEST(FixedPointEngine, FullyConnectedMatchesDefinitionOnEveryPath) {
  std::mt19937_64 rng(99);
  for (unsigned bits : {8u, 25u, 32u, 33u, 41u, 64u}) {
    SCOPED_TRACE(bits);
    const Ring ring(bits);
    LinearOp op;
    op.kind = LinearOp::Kind::fc;
    op.in_features = 1 + rng() % 70;
    op.out_features = 1 + rng() % 9;
    op.weight = RingTensor(Shape{op.out_features, op.in_features});
    op.bias = RingTensor(Shape{op.out_features});
    RingTensor x(Shape{1, op.in_features});
    for (uint64_t& v : op.weight.span()) v = ring.reduce(rng());
    for (uint64_t& v : op.bias.span()) v = ring.reduce(rng());
    for (uint64_t& v : x.span()) v = ring.reduce(rng());
    RingTensor want(Shape{1, op.out_features});
    for (std::size_t o = 0; o < op.out_features; ++o) {
      uint64_t acc = op.bias[o];
      for (std::size_t i = 0; i < op.in_features; ++i) {
        acc = ring.add(acc, ring.mul(op.weight[o * op.in_features + i], x[i]));
      }
      want[o] = acc;
    }
    EXPECT_EQ(apply_linear(ring, op, x), want);
    EXPECT_EQ(detail::apply_linear_on(detail::RingKernel::portable, ring, op, x, true), want);
    if (avx512_kernels_run()) {
      EXPECT_EQ(detail::apply_linear_on(detail::RingKernel::avx512, ring, op, x, true), want);
    }
  }
  report_avx512_skip();
}

TEST(FixedPointEngine, ValidateRejectsInconsistentModels) {
  LoweredModel m = tiny_network();
  m.stages[1].identity_inputs = {3};
  EXPECT_THROW(validate(m), InvalidArgument);
  m = tiny_network();
  m.linear_ops[2].in_features = 4;
  EXPECT_THROW(validate(m), InvalidArgument);
  m = tiny_network();
  m.stages[2].nonlinear.kind = NonLinear::Kind::relu;
  EXPECT_THROW(validate(m), InvalidArgument);
  m = tiny_network();
  m.f = 4;  // 2f must stay below l
  EXPECT_THROW(validate(m), InvalidArgument);
}

}  // namespace
}  // namespace pinfer::nn
