#include "pinfer/nn/model_loader.hpp"

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/nn/builtin_models.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/nn/onnx_importer.hpp"

namespace pinfer::nn {

Model load_float_model(std::string_view spec, const LoadOptions& options, bool with_weights) {
  if (is_builtin_model_name(spec)) {
    return build_builtin_model(spec, {.seed = options.seed, .with_weights = with_weights});
  }
  const std::filesystem::path path(spec);
  if (path.extension() != ".onnx") {
    // Let build_builtin_model produce the "unknown name, known ones are ..." message.
    if (spec.find(':') != std::string_view::npos || !std::filesystem::exists(path)) {
      return build_builtin_model(spec);
    }
  }
  return load_onnx_file(path);
}

std::vector<FloatTensor> calibration_inputs(std::string_view spec, const Model& model,
                                            const LoadOptions& options, std::string* source) {
  std::optional<std::filesystem::path> file = options.calibration_file;
  if (!file && !is_builtin_model_name(spec)) {
    std::filesystem::path beside(spec);
    beside.replace_extension(".calib.npy");
    if (std::filesystem::exists(beside)) file = beside;
  }
  std::vector<FloatTensor> out;
  if (file) {
    const FloatTensor batch = read_npy_float(*file);
    const Shape& in = model.input_shape();
    if (batch.shape().rank() != 4 || batch.shape()[1] != in[1] || batch.shape()[2] != in[2] ||
        batch.shape()[3] != in[3]) {
      throw InvalidArgument("calibration file " + file->string() + " has shape " +
                            batch.shape().to_string() + ", expected N x " + std::to_string(in[1]) +
                            " x " + std::to_string(in[2]) + " x " + std::to_string(in[3]));
    }
    out = split_batch(batch);
    if (source) *source = file->string() + " (" + std::to_string(out.size()) + " inputs)";
    return out;
  }
  if (options.random_calibration_samples == 0) {
    throw InvalidArgument("random_calibration_samples is 0 and no calibration file was given");
  }
  Prg prg = Prg::from_seed(Block(options.seed, 0x63616c6962ULL));  // public inputs: seeded
  for (std::size_t k = 0; k < options.random_calibration_samples; ++k) {
    FloatTensor x(model.input_shape());
    for (float& v : x.values()) {
      v = static_cast<float>(static_cast<double>(prg.next_u64() >> 11) * 0x1.0p-53);
    }
    out.push_back(std::move(x));
  }
  if (source) {
    *source = std::to_string(out.size()) + " random uniform [0,1) inputs (seed " +
              std::to_string(options.seed) + ")";
  }
  return out;
}

LoadedModel load_model(std::string_view spec, const LoadOptions& options) {
  Model model = load_float_model(spec, options);
  std::string source;
  const std::vector<FloatTensor> calib = calibration_inputs(spec, model, options, &source);
  QuantizationOptions q = options.quantization;
  if (is_builtin_model_name(spec) && !q.frac_bits) q.frac_bits = options.builtin_frac_bits;
  const LoweredPlan plan = plan_lowering(model);
  const QuantizationChoice choice = choose_quantization(model, plan, calib, q);
  LoweredModel lowered = quantize(plan, choice.l, choice.f);
  lowered.max_abs_preactivation_log2 = choice.max_abs_preactivation_log2;
  lowered.margin_bits = choice.margin_bits;
  lowered.calibration_samples = choice.calibration_samples;
  return LoadedModel{std::move(model), std::move(lowered), choice, std::move(source)};
}

}  // namespace pinfer::nn
