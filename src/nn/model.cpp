#include "pinfer/nn/model.hpp"

#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::nn {

std::string_view to_string(LayerKind kind) noexcept {
  switch (kind) {
    case LayerKind::input:
      return "Input";
    case LayerKind::conv:
      return "Conv";
    case LayerKind::batch_norm:
      return "BatchNorm";
    case LayerKind::relu:
      return "ReLU";
    case LayerKind::max_pool:
      return "MaxPool";
    case LayerKind::avg_pool:
      return "AvgPool";
    case LayerKind::global_avg_pool:
      return "GlobalAvgPool";
    case LayerKind::add:
      return "Add";
    case LayerKind::flatten:
      return "Flatten";
    case LayerKind::linear:
      return "Linear";
    case LayerKind::clip:
      return "Clip";
    case LayerKind::concat:
      return "Concat";
  }
  return "?";
}

namespace {

[[noreturn]] void fail(const Layer& layer, const std::string& why) {
  throw InvalidArgument("layer " + layer.name + " (" + std::string(to_string(layer.kind)) +
                        "): " + why);
}

void check_vector(const Layer& layer, const std::vector<float>& v, std::size_t n,
                  const char* what) {
  if (v.size() != n) {
    fail(layer, std::string(what) + " has " + std::to_string(v.size()) + " values, expected " +
                    std::to_string(n));
  }
}

}  // namespace

Model::Model(std::string name, Shape input_shape) : name_(std::move(name)) {
  if (input_shape.rank() != 4 || input_shape[0] != 1 || input_shape.numel() == 0) {
    throw InvalidArgument("model input shape " + input_shape.to_string() +
                          " is not 1 x C x H x W (batch size 1)");
  }
  Layer in;
  in.kind = LayerKind::input;
  in.name = "input";
  in.shape = std::move(input_shape);
  layers_.push_back(std::move(in));
}

std::size_t Model::add_layer(Layer layer) {
  const std::size_t expected_inputs =
      layer.kind == LayerKind::add ? 2 : (layer.kind == LayerKind::input ? 0 : 1);
  if (layer.kind == LayerKind::input) fail(layer, "only the model has an input layer");
  if (layer.kind == LayerKind::concat ? layer.inputs.size() < 2
                                      : layer.inputs.size() != expected_inputs) {
    fail(layer, "has " + std::to_string(layer.inputs.size()) + " inputs, expected " +
                    std::to_string(expected_inputs));
  }
  for (std::size_t i : layer.inputs) {
    if (i >= layers_.size()) fail(layer, "input index " + std::to_string(i) + " is not defined");
  }
  const Shape& in = layers_[layer.inputs[0]].shape;
  const auto& d = in.dims();
  const bool spatial = in.rank() == 4;
  switch (layer.kind) {
    case LayerKind::input:
      break;
    case LayerKind::conv: {
      if (!spatial) fail(layer, "input rank " + std::to_string(in.rank()) + " is not 4 (NCHW)");
      ConvGeometry& g = layer.conv;
      g.in_channels = d[1];
      g.in_h = d[2];
      g.in_w = d[3];
      if (g.out_channels == 0) fail(layer, "0 output channels");
      try {
        g.infer_output_size();
      } catch (const InvalidArgument& e) {
        fail(layer, e.what());
      }
      const Shape wshape{g.out_channels, g.group_in_channels(), g.kernel_h, g.kernel_w};
      if (layer.weight.size() == 0) {
        has_weights_ = false;
      } else if (!(layer.weight.shape() == wshape)) {
        fail(layer, "weight shape " + layer.weight.shape().to_string() + ", expected " +
                        wshape.to_string());
      }
      if (!layer.bias.empty()) check_vector(layer, layer.bias, g.out_channels, "bias");
      layer.shape = Shape{1, g.out_channels, g.out_h, g.out_w};
      break;
    }
    case LayerKind::batch_norm: {
      if (in.rank() != 4 && in.rank() != 2) fail(layer, "input rank must be 4 or 2");
      const std::size_t c = d[1];
      check_vector(layer, layer.gamma, c, "scale");
      check_vector(layer, layer.beta, c, "bias");
      check_vector(layer, layer.mean, c, "mean");
      check_vector(layer, layer.var, c, "variance");
      if (!(layer.epsilon >= 0)) fail(layer, "epsilon is negative");
      for (float v : layer.var) {
        if (!(v + layer.epsilon > 0)) fail(layer, "variance + epsilon is not positive");
      }
      layer.shape = in;
      break;
    }
    case LayerKind::relu:
      layer.shape = in;
      break;
    case LayerKind::max_pool:
    case LayerKind::avg_pool: {
      if (!spatial) fail(layer, "input rank " + std::to_string(in.rank()) + " is not 4 (NCHW)");
      const PoolSpec& p = layer.pool;
      try {
        layer.shape = Shape{1, d[1], p.out_h(d[2]), p.out_w(d[3])};
      } catch (const InvalidArgument& e) {
        fail(layer, e.what());
      }
      break;
    }
    case LayerKind::clip:
      if (!(layer.clip_min <= layer.clip_max)) {
        fail(layer, "min " + std::to_string(layer.clip_min) + " exceeds max " +
                        std::to_string(layer.clip_max));
      }
      layer.shape = in;
      break;
    case LayerKind::concat: {
      std::size_t channels = 0;
      for (std::size_t i : layer.inputs) {
        const Shape& s = layers_[i].shape;
        if (s.rank() != in.rank() || s[0] != 1 ||
            (s.rank() == 4 && (s[2] != d[2] || s[3] != d[3]))) {
          fail(layer, "input shapes " + in.to_string() + " and " + s.to_string() +
                          " differ outside the channel axis");
        }
        channels += s[1];
      }
      std::vector<std::size_t> dims = d;
      dims[1] = channels;
      layer.shape = Shape(std::move(dims));
      break;
    }
    case LayerKind::global_avg_pool:
      if (!spatial) fail(layer, "input rank " + std::to_string(in.rank()) + " is not 4 (NCHW)");
      layer.shape = Shape{1, d[1], 1, 1};
      break;
    case LayerKind::add:
      if (!(in == layers_[layer.inputs[1]].shape)) {
        fail(layer, "input shapes " + in.to_string() + " and " +
                        layers_[layer.inputs[1]].shape.to_string() + " differ");
      }
      layer.shape = in;
      break;
    case LayerKind::flatten:
      layer.shape = Shape{1, in.numel()};
      break;
    case LayerKind::linear: {
      if (in.rank() != 2) fail(layer, "input rank " + std::to_string(in.rank()) + " is not 2");
      layer.in_features = d[1];
      if (layer.weight.size() == 0) {
        has_weights_ = false;
        if (layer.out_features == 0) fail(layer, "0 output features");
      } else {
        if (layer.weight.shape().rank() != 2 || layer.weight.shape()[1] != layer.in_features) {
          fail(layer, "weight shape " + layer.weight.shape().to_string() + " does not take " +
                          std::to_string(layer.in_features) + " inputs");
        }
        layer.out_features = layer.weight.shape()[0];
      }
      if (!layer.bias.empty()) check_vector(layer, layer.bias, layer.out_features, "bias");
      layer.shape = Shape{1, layer.out_features};
      break;
    }
  }
  layers_.push_back(std::move(layer));
  output_ = layers_.size() - 1;
  return output_;
}

std::size_t Model::add_conv(std::string name, std::size_t input, const ConvSpec& spec,
                            FloatTensor weight, std::vector<float> bias) {
  Layer l;
  l.kind = LayerKind::conv;
  l.name = std::move(name);
  l.inputs = {input};
  l.conv.out_channels = spec.out_channels;
  l.conv.kernel_h = spec.kernel_h;
  l.conv.kernel_w = spec.kernel_w;
  l.conv.stride_h = spec.stride_h;
  l.conv.stride_w = spec.stride_w;
  l.conv.pad_top = spec.pad_top;
  l.conv.pad_left = spec.pad_left;
  l.conv.pad_bottom = spec.pad_bottom;
  l.conv.pad_right = spec.pad_right;
  l.conv.groups = spec.groups;
  l.weight = std::move(weight);
  l.bias = std::move(bias);
  return add_layer(std::move(l));
}

std::size_t Model::add_batch_norm(std::string name, std::size_t input, std::vector<float> gamma,
                                  std::vector<float> beta, std::vector<float> mean,
                                  std::vector<float> var, float epsilon) {
  Layer l;
  l.kind = LayerKind::batch_norm;
  l.name = std::move(name);
  l.inputs = {input};
  l.gamma = std::move(gamma);
  l.beta = std::move(beta);
  l.mean = std::move(mean);
  l.var = std::move(var);
  l.epsilon = epsilon;
  return add_layer(std::move(l));
}

namespace {
Layer simple(LayerKind kind, std::string name, std::vector<std::size_t> inputs) {
  Layer l;
  l.kind = kind;
  l.name = std::move(name);
  l.inputs = std::move(inputs);
  return l;
}
}  // namespace

std::size_t Model::add_relu(std::string name, std::size_t input) {
  return add_layer(simple(LayerKind::relu, std::move(name), {input}));
}

std::size_t Model::add_max_pool(std::string name, std::size_t input, const PoolSpec& spec) {
  Layer l = simple(LayerKind::max_pool, std::move(name), {input});
  l.pool = spec;
  return add_layer(std::move(l));
}

std::size_t Model::add_avg_pool(std::string name, std::size_t input, const PoolSpec& spec) {
  Layer l = simple(LayerKind::avg_pool, std::move(name), {input});
  l.pool = spec;
  return add_layer(std::move(l));
}

std::size_t Model::add_global_avg_pool(std::string name, std::size_t input) {
  return add_layer(simple(LayerKind::global_avg_pool, std::move(name), {input}));
}

std::size_t Model::add_add(std::string name, std::size_t a, std::size_t b) {
  return add_layer(simple(LayerKind::add, std::move(name), {a, b}));
}

std::size_t Model::add_flatten(std::string name, std::size_t input) {
  return add_layer(simple(LayerKind::flatten, std::move(name), {input}));
}

std::size_t Model::add_linear(std::string name, std::size_t input, FloatTensor weight,
                              std::vector<float> bias) {
  Layer l = simple(LayerKind::linear, std::move(name), {input});
  l.weight = std::move(weight);
  l.bias = std::move(bias);
  return add_layer(std::move(l));
}

std::size_t Model::add_clip(std::string name, std::size_t input, float min, float max) {
  Layer l = simple(LayerKind::clip, std::move(name), {input});
  l.clip_min = min;
  l.clip_max = max;
  return add_layer(std::move(l));
}

std::size_t Model::add_concat(std::string name, std::vector<std::size_t> inputs) {
  return add_layer(simple(LayerKind::concat, std::move(name), std::move(inputs)));
}

void Model::set_output(std::size_t i) {
  if (i >= layers_.size()) {
    throw InvalidArgument("output layer " + std::to_string(i) + " is not defined");
  }
  output_ = i;
}

void Model::set_bias(std::size_t i, std::vector<float> bias) {
  if (i >= layers_.size()) throw InvalidArgument("layer " + std::to_string(i) + " is not defined");
  Layer& l = layers_[i];
  if (l.kind == LayerKind::conv) {
    check_vector(l, bias, l.conv.out_channels, "bias");
  } else if (l.kind == LayerKind::linear) {
    check_vector(l, bias, l.out_features, "bias");
  } else {
    fail(l, "has no bias");
  }
  l.bias = std::move(bias);
}

std::vector<std::size_t> consumer_counts(const Model& model) {
  std::vector<std::size_t> n(model.layers().size(), 0);
  for (const Layer& l : model.layers()) {
    for (std::size_t i : l.inputs) ++n[i];
  }
  ++n[model.output()];
  return n;
}

ModelCounts count(const Model& model) {
  ModelCounts c;
  for (const Layer& l : model.layers()) {
    const std::size_t n = l.shape.numel();
    c.activations += n;
    c.max_activation = std::max(c.max_activation, n);
    switch (l.kind) {
      case LayerKind::relu:
      case LayerKind::clip:
        c.relus += n;
        break;
      case LayerKind::max_pool:
        c.comparisons += n * (l.pool.kernel_h * l.pool.kernel_w - 1);
        break;
      case LayerKind::conv:
        c.macs += l.conv.macs();
        c.params +=
            l.conv.out_channels * l.conv.group_in_channels() * l.conv.kernel_h * l.conv.kernel_w +
            l.bias.size();
        break;
      case LayerKind::linear:
        c.macs += l.in_features * l.out_features;
        c.params += (l.in_features + 1) * l.out_features;  // a missing bias is a zero one
        break;
      case LayerKind::batch_norm:
        c.params += 4 * l.gamma.size();
        break;
      default:
        break;
    }
  }
  return c;
}

}  // namespace pinfer::nn
