// Importing and checking a model before serving it: the ONNX file is imported, lowered to the
// stages the protocols run (linear layers between ReLUs) and quantized to an l-bit ring with f
// fractional bits, chosen on calibration inputs (X.calib.npy beside X.onnx). On a test set, the
// check says how often the fixed-point model agrees with the float model and how close any
// input comes to wrapping the ring (a wrapped input gives a wrong private result).
//
//   check_model [model.onnx] [images.npy] [labels.npy]   (default: the shipped digits model)
#include <pinfer/pinfer.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace pinfer;

int main(int argc, char** argv) try {
  const std::string model_file = argc > 1 ? argv[1] : "models/digits.onnx";
  const std::string images_file = argc > 2 ? argv[2] : "models/digits_test_images.npy";
  const std::string labels_file = argc > 3 ? argv[3] : "models/digits_test_labels.npy";

  const nn::LoadedModel m = nn::load_model(model_file);
  const nn::LoweredCounts counts = nn::count(m.lowered);
  std::printf("%s: %zu stages, %zu ReLUs, %zu MACs, %zu parameters\n", m.lowered.name.c_str(),
              m.lowered.stages.size(), counts.relus, counts.macs, counts.params);
  std::printf("ring: l = %u bits, f = %u fractional bits (calibrated on %s)\n",
              static_cast<unsigned>(m.lowered.l), static_cast<unsigned>(m.lowered.f),
              m.calibration_source.c_str());

  const std::vector<FloatTensor> images = nn::split_batch(nn::read_npy_float(images_file));
  const std::vector<int64_t> labels = nn::read_npy_int(labels_file);
  const nn::ModelCheck check = nn::check_model(m.model, m.lowered, images, labels);
  std::printf("%zu test inputs: fixed point agrees with float on %.1f%%\n", check.samples,
              100 * check.agreement);
  std::printf("accuracy: fixed point %.1f%%, float %.1f%%\n", 100 * *check.accuracy,
              100 * *check.float_accuracy);
  std::printf("smallest ring headroom %.1f bits (input %zu, layer %s); %zu inputs wrap\n",
              check.headroom.margin_bits, check.headroom.worst_input,
              check.headroom.worst_layer.c_str(), check.headroom.wrapped);

  // Ready to serve when no input wraps and quantization barely changes the predictions.
  const bool ready = check.headroom.wrapped == 0 && check.agreement >= 0.95;
  std::printf("%s\n", ready ? "ready to serve" : "NOT ready: recalibrate on data like this");
  return ready ? 0 : 1;
} catch (const pinfer::Error& e) {
  std::fprintf(stderr, "check_model: %s\n", e.what());
  return 1;
}
