#pragma once
// One entry point for "a model by name or path": a built-in network ("resnet18:cifar10", see
// builtin_models.hpp) or an ONNX file, lowered and quantized for the protocols.
//
// Calibration inputs (for choosing l and f) come from, in order: LoadOptions::calibration_file;
// for an ONNX file X.onnx, the file X.calib.npy beside it if present; otherwise
// random_calibration_samples uniform [0, 1) inputs from the seed. Built-in networks (random
// weights, no data) use f = builtin_frac_bits unless options.quantization.frac_bits is set.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/nn/model.hpp"
#include "pinfer/nn/quantizer.hpp"

namespace pinfer::nn {

struct LoadOptions {
  uint64_t seed = 1;  // built-in weights and random calibration inputs
  std::optional<std::filesystem::path> calibration_file = {};  // .npy float32 N x C x H x W
  std::size_t random_calibration_samples = 1;
  unsigned builtin_frac_bits = 12;
  QuantizationOptions quantization = {};
};

// The float model only (no quantization): built-in name or .onnx path.
// Throws InvalidArgument for an unknown name, plus the ONNX importer's errors.
[[nodiscard]] Model load_float_model(std::string_view spec, const LoadOptions& options = {},
                                     bool with_weights = true);

// The calibration set load_model would use for `model`.
[[nodiscard]] std::vector<FloatTensor> calibration_inputs(std::string_view spec, const Model& model,
                                                          const LoadOptions& options,
                                                          std::string* source = nullptr);

struct LoadedModel {
  Model model;           // the float IR as loaded (BatchNorm not folded)
  LoweredModel lowered;  // quantized, ready for the fixed-point engine and the protocols
  QuantizationChoice quantization;
  std::string calibration_source;  // e.g. "models/digits.calib.npy (64 inputs)"
};

// Loads, lowers and quantizes. Throws as load_float_model, plus Unsupported from lowering.
[[nodiscard]] LoadedModel load_model(std::string_view spec, const LoadOptions& options = {});

}  // namespace pinfer::nn
