#pragma once
// `--calibration FILE.npy`: the inputs a model's ring (l, f) is chosen on (docs/MODELS.md,
// "Quantization rule"), shared by model info / run / check, serve, characterize and demo.
// Without it the loader's default set is used (X.calib.npy beside X.onnx, else one random
// input) and a warning on stderr says which.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "pinfer/core/tensor.hpp"
#include "pinfer/nn/model_loader.hpp"

namespace pinfer::cli {

void add_calibration_option(CLI::App& cmd, std::string& file);

// `options` with the calibration file set when `file` is not empty.
[[nodiscard]] nn::LoadOptions with_calibration(nn::LoadOptions options, const std::string& file);

struct CalibratedModel {
  nn::LoadedModel loaded;
  std::vector<FloatTensor> calibration;  // the inputs (l, f) were chosen on
};

// Loads `spec` (nn::load_model) quantized on `file` or the default set; warns on stderr when
// `file` is empty, naming what was used.
[[nodiscard]] CalibratedModel load_calibrated(const std::string& spec, const std::string& file,
                                              nn::LoadOptions options = {});

// For commands that serve the model: load_calibrated with l capped at the HE engine's largest
// plaintext modulus, then refuse (Unsupported naming the input, layer and margin) if a
// calibration input overflows the ring; prints the margin on stderr.
[[nodiscard]] nn::LoadedModel load_model_to_serve(const std::string& spec, const std::string& file,
                                                  nn::LoadOptions options = {});

}  // namespace pinfer::cli
