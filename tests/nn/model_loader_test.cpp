#include "pinfer/nn/model_loader.hpp"

#include <gtest/gtest.h>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"

namespace pinfer::nn {
namespace {

TEST(ModelLoader, BuiltinNameGivesACalibratedLoweredModel) {
  const LoadedModel m = load_model("resnet32:cifar10", {.seed = 5});
  validate(m.lowered);
  EXPECT_EQ(m.lowered.f, 12u);  // the built-in default
  EXPECT_GE(m.lowered.l, 2 * m.lowered.f + 2);
  EXPECT_LE(m.lowered.l, 40u);
  EXPECT_GE(m.lowered.margin_bits, 3.0);
  EXPECT_EQ(count(m.lowered).relus, 303104u);
  // The calibration input itself runs without overflow: same logits in Z_2^l as the plan in 2^64.
  const std::vector<FloatTensor> calib =
      calibration_inputs("resnet32:cifar10", m.model, {.seed = 5});
  ASSERT_EQ(calib.size(), 1u);
  const RingTensor y = run_fixed_point(m.lowered, encode_input(m.lowered, calib[0]));
  const LoweredModel wide = quantize(plan_lowering(m.model), 64, m.lowered.f);
  const RingTensor w = run_fixed_point(wide, encode_input(wide, calib[0]));
  for (std::size_t i = 0; i < y.size(); ++i) {
    EXPECT_EQ(m.lowered.ring().to_signed(y[i]), Ring(64).to_signed(w[i]));
  }
  const double headroom = headroom_bits(m.lowered, encode_input(m.lowered, calib[0]));
  EXPECT_NEAR(headroom, m.lowered.margin_bits, 1e-9);
  // A model narrowed to below its calibrated maximum reports the overflow.
  LoweredModel narrow = widen_to_64_bits(m.lowered);
  narrow.l = m.lowered.l - 4;
  const Ring r(narrow.l);
  for (LinearOp& op : narrow.linear_ops) {
    for (uint64_t& v : op.weight.span()) v = r.reduce(v);
    for (uint64_t& v : op.bias.span()) v = r.reduce(v);
  }
  EXPECT_LT(headroom_bits(narrow, encode_input(narrow, calib[0])), 0.0);
}

TEST(ModelLoader, OnnxPathUsesTheCalibrationFileBesideIt) {
  const std::string path = std::string(PINFER_SOURCE_DIR) + "/models/digits.onnx";
  const LoadedModel m = load_model(path);
  EXPECT_NE(m.calibration_source.find("digits.calib.npy"), std::string::npos);
  EXPECT_EQ(m.quantization.calibration_samples, 64u);
  EXPECT_GE(m.quantization.top1_agreement, 0.99);
}

TEST(ModelLoader, UnknownModelsAreReported) {
  EXPECT_THROW((void)load_float_model("resnet99:cifar10"), InvalidArgument);
  EXPECT_THROW((void)load_float_model("/nonexistent/model.onnx"), IoError);
}

}  // namespace
}  // namespace pinfer::nn
