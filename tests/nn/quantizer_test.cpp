#include "pinfer/nn/quantizer.hpp"

#include <gtest/gtest.h>

#include <random>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/float_engine.hpp"

namespace pinfer::nn {
namespace {

FloatTensor random_tensor(std::mt19937& rng, Shape s, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  FloatTensor t(std::move(s));
  for (float& v : t.values()) v = d(rng);
  return t;
}

Model small_cnn(unsigned seed) {
  std::mt19937 rng(seed);
  Model m("small", Shape{1, 2, 8, 8});
  std::size_t x = m.add_conv("c1", 0, ConvSpec{4, 3, 3, 1, 1, 1, 1, 1, 1},
                             random_tensor(rng, {4, 2, 3, 3}, -0.5f, 0.5f));
  x = m.add_max_pool("pool", m.add_relu("r1", x), PoolSpec{2, 2, 2, 2});
  const std::size_t a = x;
  x = m.add_conv("c2", x, ConvSpec{4, 3, 3, 1, 1, 1, 1, 1, 1},
                 random_tensor(rng, {4, 4, 3, 3}, -0.5f, 0.5f));
  x = m.add_relu("r2", m.add_add("add", x, a));
  x = m.add_flatten("flat", m.add_global_avg_pool("gap", x));
  m.add_linear("fc", x, random_tensor(rng, {6, 4}, -1, 1));
  return m;
}

TEST(Quantizer, LoweringFoldsPoolsAndShortcuts) {
  const LoweredPlan p = plan_lowering(small_cnn(1));
  const LoweredModel& s = p.structure;
  ASSERT_EQ(s.stages.size(), 3u);
  EXPECT_EQ(s.stages[0].nonlinear.kind, NonLinear::Kind::relu_maxpool);
  EXPECT_EQ(s.activation_shapes[1], (Shape{1, 4, 4, 4}));
  EXPECT_EQ(s.stages[1].identity_inputs, std::vector<std::size_t>{1});
  // The global average pool is folded into the FC: 4 x 4 x 4 inputs, weights / 16.
  const LinearOp& fc = s.linear_ops[s.stages[2].linear_ops[0]];
  EXPECT_EQ(fc.kind, LinearOp::Kind::fc);
  EXPECT_EQ(fc.in_features, 64u);
  EXPECT_EQ(fc.input, 2u);
}

TEST(Quantizer, ChosenRingNeverOverflowsOnCalibrationInputs) {
  const Model m = small_cnn(2);
  std::mt19937 rng(3);
  std::vector<FloatTensor> calib;
  for (int k = 0; k < 8; ++k) calib.push_back(random_tensor(rng, {1, 2, 8, 8}, 0, 1));
  const LoweredPlan plan = plan_lowering(m);
  const QuantizationChoice c = choose_quantization(m, plan, calib);
  EXPECT_GE(c.margin_bits, 3.0);
  EXPECT_LE(c.margin_bits, 4.0);
  EXPECT_GE(c.f, 8u);
  const LoweredModel q = quantize(plan, c.l, c.f);
  const LoweredModel wide = quantize(plan, 64, c.f);
  validate(q);
  const Ring ring(c.l);
  for (const FloatTensor& x : calib) {
    // Same computation in Z_2^l and Z_2^64: equal after reduction, i.e. nothing wrapped.
    const RingTensor a = run_fixed_point(q, encode_input(q, x));
    const RingTensor b = run_fixed_point(wide, encode_input(wide, x));
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(ring.to_signed(a[i]), Ring(64).to_signed(b[i]));
    }
    // And close to the float model (floor truncation at f = 8 biases each activation by up to
    // -2^-8).
    const FloatTensor y = run_float(m, x);
    const std::vector<double> d = decode_logits(q, a);
    for (std::size_t i = 0; i < d.size(); ++i) EXPECT_NEAR(d[i], y[i], 0.1);
  }
}

TEST(Quantizer, FixedFracBitsAndTooSmallRing) {
  const Model m = small_cnn(4);
  std::mt19937 rng(5);
  std::vector<FloatTensor> calib{random_tensor(rng, {1, 2, 8, 8}, 0, 1)};
  const LoweredPlan plan = plan_lowering(m);
  const QuantizationChoice c = choose_quantization(m, plan, calib, {.frac_bits = 11});
  EXPECT_EQ(c.f, 11u);
  EXPECT_THROW((void)choose_quantization(m, plan, calib, {.frac_bits = 11, .max_ring_bits = 20}),
               Unsupported);
  EXPECT_THROW((void)choose_quantization(m, plan, {}), InvalidArgument);
  EXPECT_THROW((void)quantize(plan, 20, 10), InvalidArgument);  // 2f + 2 > l
}

TEST(Quantizer, UnsupportedGraphsNameTheLayer) {
  std::mt19937 rng(6);
  auto conv = [&](Model& m, const std::string& name, std::size_t in, std::size_t c_in) {
    return m.add_conv(name, in, ConvSpec{2, 1, 1}, random_tensor(rng, {2, c_in, 1, 1}, -1, 1));
  };
  auto expect_unsupported = [](const Model& m, const std::string& layer) {
    try {
      (void)plan_lowering(m);
      ADD_FAILURE() << "no exception for " << layer;
    } catch (const Unsupported& e) {
      EXPECT_NE(std::string(e.what()).find(layer), std::string::npos) << e.what();
    }
  };
  {  // conv -> conv without a ReLU between: lowered through a rescale stage
    Model m("a", Shape{1, 1, 4, 4});
    conv(m, "c2", conv(m, "c1", 0, 1), 2);
    const LoweredPlan p = plan_lowering(m);
    ASSERT_EQ(p.structure.stages.size(), 2u);
    EXPECT_EQ(p.structure.stages[0].nonlinear.kind, NonLinear::Kind::clip);
  }
  {  // average pool feeding a conv: lowered as a depthwise convolution of the ReLU output
    Model m("b", Shape{1, 1, 4, 4});
    const std::size_t r = m.add_relu("r", conv(m, "c1", 0, 1));
    conv(m, "c2", m.add_avg_pool("avg", r, PoolSpec{2, 2, 2, 2}), 2);
    const LoweredPlan p = plan_lowering(m);
    // ReLU, then the pool's depthwise convolution rescaled before c2 reads it, then c2.
    ASSERT_EQ(p.structure.stages.size(), 3u);
    EXPECT_EQ(p.structure.stages[0].nonlinear.kind, NonLinear::Kind::relu);
    EXPECT_EQ(p.structure.stages[1].nonlinear.kind, NonLinear::Kind::clip);
  }
  {  // a conv reading a max pool of a value that may be negative (no ReLU to fold the pool into)
    Model m("b2", Shape{1, 1, 4, 4});
    const std::size_t c1 = conv(m, "c1", 0, 1);
    const std::size_t r = m.add_relu("r", c1);
    const std::size_t sum = m.add_add("sum", c1, r);
    conv(m, "c2", m.add_max_pool("neg_pool", sum, PoolSpec{2, 2, 2, 2}), 2);
    expect_unsupported(m, "c2");
  }
  {  // max pool of a ReLU output another layer also reads: a max-pool stage of its own
    Model m("c", Shape{1, 1, 4, 4});
    const std::size_t r = m.add_relu("r", conv(m, "c1", 0, 1));
    const std::size_t pool = m.add_max_pool("shared_pool", r, PoolSpec{2, 2, 2, 2});
    const std::size_t f1 =
        m.add_linear("f1", m.add_flatten("fp", pool), random_tensor(rng, {3, 8}, -1, 1));
    const std::size_t f2 =
        m.add_linear("f2", m.add_flatten("fr", r), random_tensor(rng, {3, 32}, -1, 1));
    m.add_add("logits", f1, f2);
    const LoweredPlan p = plan_lowering(m);
    ASSERT_EQ(p.structure.stages.size(), 3u);
    EXPECT_EQ(p.structure.stages[0].nonlinear.kind, NonLinear::Kind::relu);
    EXPECT_EQ(p.structure.stages[1].nonlinear.kind, NonLinear::Kind::relu_maxpool);
    EXPECT_EQ(p.structure.stages[1].identity_inputs, std::vector<std::size_t>{1});
  }
  {  // the output is a ReLU, not logits
    Model m("d", Shape{1, 1, 4, 4});
    m.add_relu("last_relu", conv(m, "c1", 0, 1));
    expect_unsupported(m, "last_relu");
  }
}

}  // namespace
}  // namespace pinfer::nn
