#include "pinfer/nn/batch_norm_folding.hpp"

#include <cmath>

#include "pinfer/core/error.hpp"

namespace pinfer::nn {

Model fold_batch_norm(const Model& model) {
  if (!model.has_weights()) {
    throw InvalidArgument("model " + model.name() + " was built without weights");
  }
  const std::vector<std::size_t> readers = consumer_counts(model);
  const auto& layers = model.layers();
  // Which layers are folded into their producer (the BN layer index -> its producer).
  std::vector<bool> folded(layers.size(), false);
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    if (l.kind != LayerKind::batch_norm) continue;
    const Layer& p = layers[l.inputs[0]];
    if ((p.kind == LayerKind::conv || p.kind == LayerKind::linear) && readers[l.inputs[0]] == 1) {
      folded[i] = true;
    }
  }
  Model out(model.name(), model.input_shape());
  std::vector<std::size_t> index(layers.size(), 0);
  // A producer's layer is emitted when its BN is reached, with the folded parameters.
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    const bool producer_of_folded =
        (l.kind == LayerKind::conv || l.kind == LayerKind::linear) && readers[i] == 1 && [&] {
          for (std::size_t j = i + 1; j < layers.size(); ++j) {
            if (folded[j] && layers[j].inputs[0] == i) return true;
          }
          return false;
        }();
    if (producer_of_folded) continue;  // emitted with its BatchNorm
    if (folded[i]) {
      Layer p = layers[l.inputs[0]];
      const std::size_t channels = l.gamma.size();
      const std::size_t per_out = p.weight.size() / channels;
      if (p.bias.empty()) p.bias.assign(channels, 0.0f);
      for (std::size_t o = 0; o < channels; ++o) {
        const double s = l.gamma[o] / std::sqrt(static_cast<double>(l.var[o]) + l.epsilon);
        for (std::size_t k = 0; k < per_out; ++k) {
          p.weight[o * per_out + k] = static_cast<float>(p.weight[o * per_out + k] * s);
        }
        p.bias[o] =
            static_cast<float>(s * (static_cast<double>(p.bias[o]) - l.mean[o]) + l.beta[o]);
      }
      for (std::size_t& in : p.inputs) in = index[in];
      index[l.inputs[0]] = index[i] = out.add_layer(std::move(p));
      continue;
    }
    Layer copy = l;
    for (std::size_t& in : copy.inputs) in = index[in];
    index[i] = out.add_layer(std::move(copy));
  }
  out.set_output(index[model.output()]);
  return out;
}

}  // namespace pinfer::nn
