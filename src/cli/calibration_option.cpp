#include "calibration_option.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "pinfer/he/context.hpp"
#include "pinfer/nn/model_check.hpp"

namespace pinfer::cli {

void add_calibration_option(CLI::App& cmd, std::string& file) {
  cmd.add_option("--calibration", file,
                 "Calibration inputs (.npy float32 N x C x H x W) the ring (l, f) is chosen on; "
                 "real inputs, or the ring may overflow on them");
}

nn::LoadOptions with_calibration(nn::LoadOptions options, const std::string& file) {
  if (!file.empty()) options.calibration_file = file;
  return options;
}

CalibratedModel load_calibrated(const std::string& spec, const std::string& file,
                                nn::LoadOptions options) {
  options = with_calibration(std::move(options), file);
  CalibratedModel out{nn::load_model(spec, options), {}};
  out.calibration = nn::calibration_inputs(spec, out.loaded.model, options);
  if (file.empty()) {
    fmt::print(stderr,
               "warning: no --calibration given: l = {} and f = {} were chosen on {}; inputs "
               "unlike these may overflow the ring (check with `pinfer model check {} --data "
               "X.npy`)\n",
               out.loaded.lowered.l, out.loaded.lowered.f, out.loaded.calibration_source, spec);
  }
  return out;
}

nn::LoadedModel load_model_to_serve(const std::string& spec, const std::string& file,
                                    nn::LoadOptions options) {
  // The HE engine's plaintext modulus is at most 2^44: a model needing more is refused here,
  // with the layer and margin, rather than by the HE engine later.
  options.quantization.max_ring_bits =
      std::min(options.quantization.max_ring_bits, he::kMaxPlainBits);
  CalibratedModel m = load_calibrated(spec, file, std::move(options));
  const nn::RingHeadroom h = nn::require_ring_headroom(m.loaded.lowered, m.calibration);
  fmt::print(stderr, "ring l = {}, f = {}: margin {:.2f} bits over {}\n", m.loaded.lowered.l,
             m.loaded.lowered.f, h.margin_bits, m.loaded.calibration_source);
  return std::move(m.loaded);
}

}  // namespace pinfer::cli
