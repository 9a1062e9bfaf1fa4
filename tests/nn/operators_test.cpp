// Operators and attributes of torchvision's families (issue 13): each built as a small ONNX graph
// in this file (nn/onnx_graph.hpp), imported, lowered, and run by the float and the fixed-point
// engines, which must agree on the top-1 class and closely on every logit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "nn/onnx_graph.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/float_engine.hpp"
#include "pinfer/nn/quantizer.hpp"

namespace pinfer::nn {
namespace {

using test_onnx::Graph;
namespace models = test_onnx::models;

FloatTensor random_input(const Shape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(0.0f, 1.0f);
  FloatTensor t(s);
  for (float& v : t.values()) v = d(rng);
  return t;
}

std::size_t argmax(const std::vector<double>& v) {
  return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Lowers at f = 12 on 4 calibration inputs, then compares both engines on 6 other inputs.
LoweredModel check_engines_agree(const Model& m) {
  std::vector<FloatTensor> calib;
  for (uint32_t i = 0; i < 4; ++i) calib.push_back(random_input(m.input_shape(), 100 + i));
  const LoweredModel q = lower(m, calib, {.frac_bits = 12});
  validate(q);
  for (uint32_t t = 0; t < 6; ++t) {
    const FloatTensor x = random_input(m.input_shape(), t);
    const FloatTensor yf = run_float(m, x);
    const RingTensor enc = encode_input(q, x);
    EXPECT_GT(headroom_bits(q, enc), 0.0) << m.name();
    const std::vector<double> yq = decode_logits(q, run_fixed_point(q, enc));
    if (yq.size() != yf.size()) throw std::runtime_error("logit count differs");
    std::vector<double> yd(yf.values().begin(), yf.values().end());
    double scale = 0;
    for (double v : yd) scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < yq.size(); ++i) {
      // Each truncation to f = 12 bits biases an activation by at most -2^-12.
      EXPECT_NEAR(yq[i], yd[i], 0.01 + 0.01 * scale)
          << m.name() << " input " << t << " logit " << i;
    }
    // Top-1 agrees unless the float model's two best logits are within the error bound.
    std::vector<double> sorted = yd;
    std::sort(sorted.rbegin(), sorted.rend());
    if (sorted[0] - sorted[1] > 0.02 + 0.02 * scale) {
      EXPECT_EQ(argmax(yq), argmax(yd)) << m.name() << " input " << t;
    }
  }
  return q;
}

std::size_t count_kind(const LoweredModel& q, NonLinear::Kind k) {
  return static_cast<std::size_t>(std::count_if(
      q.stages.begin(), q.stages.end(), [&](const Stage& s) { return s.nonlinear.kind == k; }));
}

TEST(Operators, PoolGeometryFollowsPyTorch) {
  // torch.nn.MaxPool2d(3, 2, padding=1) on 112: 56; ceil_mode (SqueezeNet) 3/2 on 55: 27, 13: 6.
  EXPECT_EQ((PoolSpec{3, 3, 2, 2, 1, 1, 1, 1}.out_h(112)), 56u);
  PoolSpec ceil{3, 3, 2, 2};
  ceil.ceil_mode = true;
  EXPECT_EQ(ceil.out_h(55), 27u);
  EXPECT_EQ(ceil.out_h(13), 6u);
  EXPECT_EQ(ceil.out_h(4), 2u);
  // ceil_mode drops a window that would start in the trailing padding: 2/2 pad 1 on 5 -> 3.
  PoolSpec pc{2, 2, 2, 2, 1, 1, 1, 1, true};
  EXPECT_EQ(pc.out_h(5), 3u);
  EXPECT_EQ(pc.out_h(4), 3u);
  // Divisors: count_include_pad counts the padding, not what lies past it (ceil windows).
  PoolSpec avg{3, 3, 2, 2, 1, 1, 1, 1, true, true};
  EXPECT_EQ(avg.out_h(4), 3u);
  EXPECT_EQ(avg.window(0, 0, 4, 4).divisor, 9u);  // includes the top and left pad
  EXPECT_EQ(avg.window(2, 2, 4, 4).divisor, 4u);  // row 3 + pad row 4; nothing past the pad
  avg.count_include_pad = false;
  EXPECT_EQ(avg.window(0, 0, 4, 4).divisor, 4u);
  EXPECT_EQ(avg.window(2, 2, 4, 4).divisor, 1u);
  EXPECT_THROW((void)(PoolSpec{2, 2, 1, 1, 2, 2, 2, 2}.out_h(4)), InvalidArgument);  // pad >= k
}

TEST(Operators, MaxPoolGatherTakesOnlyInputElements) {
  const PoolSpec p{3, 3, 2, 2, 1, 1, 1, 1};
  const std::vector<uint32_t> g = max_pool_gather(Shape{1, 1, 4, 4}, p);
  ASSERT_EQ(g.size(), 2u * 2 * 9);
  // Window (0, 0) covers rows/cols -1..1: its padded positions repeat element (0, 0).
  const std::vector<uint32_t> w0{0, 0, 0, 0, 0, 1, 0, 4, 5};
  EXPECT_EQ(std::vector<uint32_t>(g.begin(), g.begin() + 9), w0);
  for (uint32_t v : g) EXPECT_LT(v, 16u);
  // A max pool of values that are all negative: padding (0) must not win.
  LoweredModel m;
  m.l = 32;
  m.f = 4;
  Stage st;
  st.pre_shape = Shape{1, 1, 4, 4};
  st.nonlinear = NonLinear::max_pool(3, 2);
  st.nonlinear.pool.pad_top = st.nonlinear.pool.pad_left = 1;
  st.nonlinear.pool.pad_bottom = st.nonlinear.pool.pad_right = 1;
  RingTensor y(st.pre_shape);
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = Ring(32).from_signed((static_cast<int64_t>(i) + 1) << 8);
  const RingTensor out = apply_nonlinear(m, st, y);
  ASSERT_EQ(out.size(), 4u);
  // ReLU outputs (i + 1) * 2^4; window maxima at indices 5, 7, 13, 15.
  EXPECT_EQ(out[0], 6u << 4);
  EXPECT_EQ(out[1], 8u << 4);
  EXPECT_EQ(out[2], 14u << 4);
  EXPECT_EQ(out[3], 16u << 4);
}

TEST(Operators, MaxPoolWithPaddingAndCeilMode) {
  const Model m = models::max_pool_pads_ceil();
  const LoweredModel q = check_engines_agree(m);
  ASSERT_EQ(count_kind(q, NonLinear::Kind::relu_maxpool), 2u);  // both folded into ReLU stages
  EXPECT_TRUE(q.stages[0].nonlinear.pool.has_padding());
  EXPECT_TRUE(q.stages[1].nonlinear.pool.ceil_mode);
  EXPECT_EQ(q.activation_shapes[2], (Shape{1, 4, 2, 2}));
}

TEST(Operators, AveragePoolWithPaddingCeilModeAndCountIncludePad) {
  for (int variant = 0; variant < 5; ++variant) {
    const Model m = models::avg_pool(variant);
    const LoweredModel q = check_engines_agree(m);
    EXPECT_EQ(q.stages.size(), 2u) << variant;  // folded into the Gemm
  }
  // count_include_pad changes the result (the divisors differ at the border).
  const FloatTensor x = random_input(Shape{1, 3, 7, 7}, 3);
  EXPECT_NE(run_float(models::avg_pool(0), x).values(), run_float(models::avg_pool(1), x).values());
}

TEST(Operators, ConcatAlongChannels) {
  const Model m = models::concat();
  const LoweredModel q = check_engines_agree(m);
  // e1 and e3 each read only by the concatenation the pool reads: the pool folds into both.
  EXPECT_EQ(count_kind(q, NonLinear::Kind::relu_maxpool), 2u);
}

TEST(Operators, PoolOfANestedConcatenationSomethingElseReadsDoesNotFold) {
  Graph g({1, 2, 6, 6}, 71);
  const auto a = g.relu(g.conv("x", 2, 3, 1, 1));
  const auto b = g.relu(g.conv("x", 2, 3, 1, 1));
  const auto c1 = g.concat({a, b});
  const auto c2 = g.concat({c1, g.relu(g.conv("x", 2, 1))});
  const auto p = g.max_pool(c2, 2, 2);               // 6 x 3 x 3
  const auto side = g.relu(g.conv(c1, 2, 3, 2, 1));  // reads a and b unpooled: 2 x 3 x 3
  g.output(g.gemm(g.flatten(g.concat({p, side})), 8 * 9, 4));
  const LoweredModel q = check_engines_agree(g.load());
  // a and b keep their 6 x 6 activations (the side conv reads them); only the third part folds.
  EXPECT_EQ(count_kind(q, NonLinear::Kind::relu_maxpool), 3u);
}

// An average pool no Gemm reads is a depthwise convolution with weights 1 / (k_h k_w).
std::vector<const LinearOp*> pool_ops(const LoweredModel& q) {
  std::vector<const LinearOp*> out;
  for (const LinearOp& op : q.linear_ops) {
    if (op.name.find("AveragePool") == 0) out.push_back(&op);
  }
  return out;
}

TEST(Operators, AveragePoolReadByBatchNormAndConcatIsALinearLayer) {
  const Model m = models::densenet_transition();
  const LoweredModel q = check_engines_agree(m);
  const auto pools = pool_ops(q);
  ASSERT_EQ(pools.size(), 1u);
  const LinearOp& op = *pools[0];
  EXPECT_EQ(op.conv.groups, 4u);
  EXPECT_EQ(op.weight.shape(), (Shape{4, 1, 2, 2}));
  EXPECT_EQ(op.output_shape(), (Shape{1, 4, 4, 4}));
  for (uint64_t w : op.weight.span()) EXPECT_EQ(w, uint64_t{1} << (q.f - 2));  // 1/4 at 2^f
  // The global average pool before the Gemm still folds into it.
  for (const LinearOp& o : q.linear_ops) EXPECT_NE(o.name.find("GlobalAveragePool"), 0u);
}

TEST(Operators, AveragePoolAsTheNetworkOutput) {
  const Model m = models::squeezenet_head();
  const LoweredModel q = check_engines_agree(m);
  const auto pools = pool_ops(q);
  ASSERT_EQ(pools.size(), 2u);  // the padded pool read by a conv, one op per fire-module part
  EXPECT_EQ(pools[0]->conv.pad_top, 1u);
  EXPECT_EQ(pools[1]->conv.in_channels, 3u);
  EXPECT_EQ(q.num_classes(), 5u);
  const LinearOp& last = q.linear_ops[q.stages.back().linear_ops.at(0)];
  EXPECT_EQ(last.name.find("GlobalAveragePool"), 0u) << last.name;
  EXPECT_EQ(last.conv.kernel_h * last.conv.kernel_w, 4u);  // the 2 x 2 map
}

TEST(Operators, ClipAndReLU6) {
  const Model m = models::clip();
  const LoweredModel q = check_engines_agree(m);
  ASSERT_EQ(count_kind(q, NonLinear::Kind::clip), 3u);
  EXPECT_EQ(q.stages[0].nonlinear.clip_lo, 0);
  EXPECT_EQ(q.stages[0].nonlinear.clip_hi, 6 << 12);
  EXPECT_EQ(q.stages[1].nonlinear.clip_lo, -(1 << 11));
}

TEST(Operators, GroupedAndDepthwiseConv) {
  const Model m = models::grouped();
  const LoweredModel q = check_engines_agree(m);
  std::vector<std::size_t> groups;
  for (const LinearOp& op : q.linear_ops) {
    if (op.kind == LinearOp::Kind::conv && op.conv.groups > 1) groups.push_back(op.conv.groups);
  }
  EXPECT_EQ(groups, (std::vector<std::size_t>{8, 2, 6}));
  // The depthwise weights stay O x 1 x kh x kw (never expanded to a dense kernel).
  for (const LinearOp& op : q.linear_ops) {
    if (op.conv.groups == 8) {
      EXPECT_EQ(op.weight.shape(), (Shape{8, 1, 3, 3}));
    }
  }
}

TEST(Operators, GroupedConvMatchesPerGroupDenseConv) {
  // A grouped conv equals the dense conv whose weight is block-diagonal over the groups.
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> d(-1, 1);
  FloatTensor w(Shape{4, 3, 3, 3}), dense(Shape{4, 6, 3, 3});
  for (float& v : w.values()) v = d(rng);
  for (std::size_t o = 0; o < 4; ++o) {
    for (std::size_t c = 0; c < 3; ++c) {
      for (std::size_t k = 0; k < 9; ++k)
        dense[(o * 6 + (o / 2) * 3 + c) * 9 + k] = w[(o * 3 + c) * 9 + k];
    }
  }
  Model a("grouped", Shape{1, 6, 5, 5}), b("dense", Shape{1, 6, 5, 5});
  a.add_conv("c", 0, ConvSpec{4, 3, 3, 1, 1, 1, 1, 1, 1, 2}, w);
  b.add_conv("c", 0, ConvSpec{4, 3, 3, 1, 1, 1, 1, 1, 1}, dense);
  const FloatTensor x = random_input(Shape{1, 6, 5, 5}, 4);
  const FloatTensor ya = run_float(a, x), yb = run_float(b, x);
  for (std::size_t i = 0; i < ya.size(); ++i) EXPECT_NEAR(ya[i], yb[i], 1e-5);
}

TEST(Operators, BatchNormAnywhereAndFinalSoftmax) {
  for (bool log : {false, true}) {
    const Model m = models::batch_norm(log);
    for (const Layer& l : m.layers()) EXPECT_NE(l.name.find("Softmax"), 0u) << "not dropped";
    const LoweredModel q = check_engines_agree(m);
    // BN of a concatenation of activations: one per-channel (depthwise 1x1) op per part.
    std::size_t per_channel = 0;
    for (const LinearOp& op : q.linear_ops) {
      per_channel += op.kind == LinearOp::Kind::conv && op.conv.groups == op.conv.in_channels &&
                     op.conv.kernel_h == 1 && op.conv.in_channels > 1;
    }
    EXPECT_EQ(per_channel, 3u);  // the shortcut x0 of the first BN, and both concat parts
  }
}

TEST(Operators, LinearOutputReadByALinearLayerIsRescaled) {
  Graph g({1, 2, 5, 5}, 61);
  const auto c = g.conv(g.conv("x", 3, 3, 1, 1), 3, 3, 1, 1);  // conv -> conv, no activation
  g.output(g.gemm(g.flatten(g.relu(c)), 75, 4));
  const LoweredModel q = check_engines_agree(g.load());
  ASSERT_GE(q.stages.size(), 1u);
  EXPECT_EQ(q.stages[0].nonlinear.kind, NonLinear::Kind::clip);
  EXPECT_EQ(q.stages[0].nonlinear.clip_lo, kNoClipLow);
  EXPECT_EQ(q.stages[0].nonlinear.clip_hi, kNoClipHigh);
}

template <typename F>
void expect_unsupported(F&& f, std::vector<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const Unsupported& e) {
    for (const auto& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
    }
  }
}

TEST(Operators, WhatIsStillRefusedIsNamed) {
  {  // a max pool with dilations
    Graph g({1, 1, 6, 6});
    auto* n = g.node("MaxPool", "dil_pool", {"x"});
    Graph::ints(n, "kernel_shape", {2, 2});
    Graph::ints(n, "dilations", {2, 2});
    g.output("dil_pool");
    expect_unsupported([&] { (void)g.load(); }, {"dil_pool", "MaxPool", "dilations"});
  }
  {  // Softmax that is not the output
    Graph g({1, 1, 4, 4});
    const auto s = g.softmax(g.flatten("x"));
    g.output(g.gemm(s, 16, 2));
    expect_unsupported([&] { (void)g.load(); }, {"Softmax", "final"});
  }
  {  // Concat along H
    Graph g({1, 1, 4, 4});
    auto* n = g.node("Concat", "cat_h", {"x", "x"});
    Graph::integer(n, "axis", 2);
    g.output("cat_h");
    expect_unsupported([&] { (void)g.load(); }, {"cat_h", "Concat", "axis 2"});
  }
  {  // Clip with a computed bound
    Graph g({1, 1, 4, 4});
    g.node("Clip", "clip_x", {"x", "x"});
    g.output("clip_x");
    expect_unsupported([&] { (void)g.load(); }, {"clip_x", "Clip", "min"});
  }
  {  // a max pool of a clip with a negative lower bound (its input may be negative)
    Graph g({1, 1, 6, 6});
    const auto p = g.max_pool(g.clip(g.conv("x", 2, 3), -1.0f, 1.0f), 2, 2);
    g.output(g.gemm(g.flatten(p), 8, 2));
    const Model m = g.load();
    expect_unsupported([&] { (void)plan_lowering(m); }, {"MaxPool", "negative"});
  }
  {  // an average pool with border divisors (count_include_pad 0) read by a conv, not a Gemm
    Graph g({1, 1, 6, 6});
    const auto p = g.avg_pool(g.relu(g.conv("x", 2, 3)), 3, 2, 1);
    g.output(g.gemm(g.flatten(g.relu(g.conv(p, 2, 1))), 8, 2));
    const Model m = g.load();
    expect_unsupported([&] { (void)plan_lowering(m); },
                       {"AveragePool", "average pool", "divisors", "Linear"});
  }
}

}  // namespace
}  // namespace pinfer::nn
