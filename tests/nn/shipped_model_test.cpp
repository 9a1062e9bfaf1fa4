// The committed digits model (models/train_digits.py): loads from ONNX, lowers to every stage
// kind, and both engines classify the held-out set accurately and agree.
#include <gtest/gtest.h>

#include <algorithm>

#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/float_engine.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/nn/model_loader.hpp"

namespace pinfer::nn {
namespace {

const std::string kModels = std::string(PINFER_SOURCE_DIR) + "/models/";

template <typename T>
std::size_t argmax(const std::vector<T>& v) {
  return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

TEST(ShippedModel, LowersToEveryStageKind) {
  const LoadedModel m = load_model(kModels + "digits.onnx");
  validate(m.lowered);
  EXPECT_EQ(m.lowered.input_shape, (Shape{1, 1, 8, 8}));
  EXPECT_EQ(m.lowered.num_classes(), 10u);
  EXPECT_LE(m.lowered.l, 40u);
  EXPECT_GE(m.lowered.margin_bits, 3.0);
  EXPECT_EQ(m.quantization.calibration_samples, 64u);
  bool residual = false, maxpool = false, fc_relu = false;
  for (const Stage& s : m.lowered.stages) {
    residual |= !s.identity_inputs.empty();
    maxpool |= s.nonlinear.kind == NonLinear::Kind::relu_maxpool;
    for (std::size_t i : s.linear_ops) {
      fc_relu |= m.lowered.linear_ops[i].kind == LinearOp::Kind::fc &&
                 s.nonlinear.kind == NonLinear::Kind::relu;
    }
  }
  EXPECT_TRUE(residual);
  EXPECT_TRUE(maxpool);
  EXPECT_TRUE(fc_relu);
  EXPECT_EQ(m.lowered.stages.back().nonlinear.kind, NonLinear::Kind::none);
  // conv1, conv2 (+ shortcut), conv3 + pool, fc1 (average pool folded in), fc2.
  EXPECT_EQ(m.lowered.stages.size(), 5u);
  EXPECT_EQ(count(m.lowered).relus, count(m.model).relus);
}

TEST(ShippedModel, EnginesAgreeAndAreAccurateOnHeldOutSet) {
  const LoadedModel m = load_model(kModels + "digits.onnx");
  const std::vector<FloatTensor> images =
      split_batch(read_npy_float(kModels + "digits_test_images.npy"));
  const std::vector<int64_t> labels = read_npy_int(kModels + "digits_test_labels.npy");
  ASSERT_EQ(images.size(), labels.size());
  ASSERT_GE(images.size(), 300u);
  std::size_t float_correct = 0, fixed_correct = 0, agree = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const FloatTensor y = run_float(m.model, images[i]);
    const std::size_t f = argmax(y.values());
    const std::vector<double> q =
        decode_logits(m.lowered, run_fixed_point(m.lowered, encode_input(m.lowered, images[i])));
    const std::size_t x = argmax(q);
    float_correct += static_cast<int64_t>(f) == labels[i];
    fixed_correct += static_cast<int64_t>(x) == labels[i];
    agree += f == x;
  }
  const double n = static_cast<double>(images.size());
  EXPECT_GE(agree / n, 0.99);
  EXPECT_GE(float_correct / n, 0.95);
  EXPECT_GE(fixed_correct / n, 0.95);
}

}  // namespace
}  // namespace pinfer::nn
