// Real calibration (issue 13, part 2): the ring's headroom over a data set, the refusal when an
// input overflows it (naming the input, layer and margin), and the float vs fixed-point check
// behind `pinfer model check` and pinfer.Model.check, on the shipped digits model.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>

#include "expect_message.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/float_engine.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/nn/model_check.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/nn/quantizer.hpp"

namespace pinfer::nn {
namespace {

const std::string kModels = std::string(PINFER_SOURCE_DIR) + "/models/";

// Expects fn to throw E with every one of `parts` in its message.
template <typename E>
void expect_message(auto&& fn, std::initializer_list<std::string> parts) {
  const std::string message = test_support::message_of<E>(fn);
  for (const std::string& p : parts) {
    EXPECT_NE(message.find(p), std::string::npos) << "'" << p << "' not in: " << message;
  }
}

struct Digits {
  Model model = load_float_model(kModels + "digits.onnx");
  std::vector<FloatTensor> images = split_batch(read_npy_float(kModels + "digits_test_images.npy"));
  std::vector<int64_t> labels = read_npy_int(kModels + "digits_test_labels.npy");
};

std::vector<FloatTensor> scaled(std::vector<FloatTensor> xs, float by) {
  for (FloatTensor& x : xs)
    for (float& v : x.values()) v *= by;
  return xs;
}

TEST(RingHeadroom, CalibrationInputsKeepTheChosenMargin) {
  const Digits d;
  const std::vector<FloatTensor> calib(d.images.begin(), d.images.begin() + 32);
  const LoweredModel m = lower(d.model, calib);
  const RingHeadroom h = ring_headroom(m, calib);
  EXPECT_EQ(h.wrapped, 0u);
  EXPECT_NEAR(h.margin_bits, m.margin_bits, 1e-9);  // the same maximum the quantizer saw
  EXPECT_GE(h.margin_bits, 3.0);
  ASSERT_EQ(h.per_input.size(), calib.size());
  EXPECT_EQ(*std::min_element(h.per_input.begin(), h.per_input.end()), h.margin_bits);
  EXPECT_NEAR(h.per_input[5], headroom_bits(m, encode_input(m, calib[5])), 1e-9);
  EXPECT_NO_THROW((void)require_ring_headroom(m, calib));
}

TEST(RingHeadroom, InputsUnlikeTheCalibrationOverflowAndAreRefused) {
  const Digits d;
  // Calibrated on the images, the ring is far too small for much brighter ones.
  const LoweredModel m = lower(d.model, {d.images.begin(), d.images.begin() + 32});
  const std::vector<FloatTensor> real = scaled({d.images.begin(), d.images.begin() + 16}, 64.0f);
  const RingHeadroom h = ring_headroom(m, real);
  EXPECT_LE(h.margin_bits, 0.0);
  EXPECT_GT(h.wrapped, 0u);
  EXPECT_NE(h.worst_layer, "");
  // The l-bit engine really computes something else on the worst input.
  const LoweredModel wide = widen_to_64_bits(m);
  RingTensor x = encode_input(wide, real[h.worst_input]);
  const RingTensor y64 = run_fixed_point(wide, x);
  const RingTensor yl = run_fixed_point(m, encode_input(m, real[h.worst_input]));
  bool differs = false;
  for (std::size_t i = 0; i < yl.size(); ++i) differs |= Ring(m.l).reduce(y64[i]) != yl[i];
  EXPECT_TRUE(differs);
  expect_message<Unsupported>([&] { (void)require_ring_headroom(m, real, "serving input"); },
                              {"serving input " + std::to_string(h.worst_input),
                               "layer " + h.worst_layer, "margin", "-bit ring"});
}

TEST(RingHeadroom, QuantizerRefusingARingTooLargeNamesTheLayerAndMargin) {
  const Digits d;
  const std::vector<FloatTensor> calib(d.images.begin(), d.images.begin() + 8);
  QuantizationOptions q;
  q.max_ring_bits = 20;  // digits needs l = 25
  expect_message<Unsupported>([&] { (void)lower(d.model, calib, q); },
                              {"needs l=", "> 20", "calibration input", "layer", "margin -"});
}

TEST(ModelCheck, AgreementAccuracyAndMarginMatchTheEngines) {
  const Digits d;
  const LoadedModel m = load_model(kModels + "digits.onnx");
  const std::size_t n = 40;
  const std::vector<FloatTensor> data(d.images.begin(), d.images.begin() + n);
  const std::vector<int64_t> labels(d.labels.begin(), d.labels.begin() + n);
  const ModelCheck c = check_model(m.model, m.lowered, data, labels);
  std::size_t agree = 0, correct = 0, float_correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto yf = run_float(m.model, data[i]).values();
    const auto top_float =
        static_cast<int64_t>(std::max_element(yf.begin(), yf.end()) - yf.begin());
    const std::vector<double> yx =
        decode_logits(m.lowered, run_fixed_point(m.lowered, encode_input(m.lowered, data[i])));
    const auto top_fixed =
        static_cast<int64_t>(std::max_element(yx.begin(), yx.end()) - yx.begin());
    agree += top_fixed == top_float;
    correct += top_fixed == labels[i];
    float_correct += top_float == labels[i];
  }
  EXPECT_EQ(c.samples, n);
  EXPECT_DOUBLE_EQ(c.agreement, static_cast<double>(agree) / n);
  ASSERT_TRUE(c.accuracy && c.float_accuracy);
  EXPECT_DOUBLE_EQ(*c.accuracy, static_cast<double>(correct) / n);
  EXPECT_DOUBLE_EQ(*c.float_accuracy, static_cast<double>(float_correct) / n);
  EXPECT_GT(c.headroom.margin_bits, 0.0);
  EXPECT_EQ(c.headroom.wrapped, 0u);
  EXPECT_FALSE(check_model(m.model, m.lowered, data).accuracy.has_value());
}

TEST(ModelCheck, RefusesEmptyDataMismatchedLabelsAndWrongShapes) {
  const Digits d;
  const LoadedModel m = load_model(kModels + "digits.onnx");
  const std::vector<FloatTensor> data(d.images.begin(), d.images.begin() + 3);
  EXPECT_THROW((void)check_model(m.model, m.lowered, {}), InvalidArgument);
  const std::vector<int64_t> two = {1, 2};
  expect_message<InvalidArgument>([&] { (void)check_model(m.model, m.lowered, data, two); },
                                  {"2 labels for 3 inputs"});
  const std::vector<FloatTensor> wrong = {FloatTensor(Shape{1, 1, 9, 9})};
  EXPECT_THROW((void)check_model(m.model, m.lowered, wrong), InvalidArgument);
}

TEST(ModelCheck, CalibrationFileErrorsNameTheFile) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("pinfer-calib-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto bad = dir / "bad.npy";
  { std::ofstream(bad) << "\x93NUMPY not an array"; }
  LoadOptions o;
  o.calibration_file = bad;
  EXPECT_THROW((void)load_model(kModels + "digits.onnx", o), FormatError);
  // A well-formed file of the wrong input shape: 4 x 1 x 7 x 7 zeros, NumPy format 1.0.
  const auto wrong = dir / "wrong.npy";
  {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 1, 7, 7), }";
    header.append(64 - (10 + header.size() + 1) % 64, ' ');
    header += '\n';
    std::ofstream out(wrong, std::ios::binary);
    out << "\x93NUMPY" << '\x01' << '\x00' << static_cast<char>(header.size() & 0xff)
        << static_cast<char>(header.size() >> 8) << header;
    const std::string zeros(4 * 49 * 4, '\0');
    out << zeros;
  }
  o.calibration_file = wrong;
  expect_message<InvalidArgument>([&] { (void)load_model(kModels + "digits.onnx", o); },
                                  {"wrong.npy", "4x1x7x7"});
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pinfer::nn
