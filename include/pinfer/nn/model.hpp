#pragma once
// The model IR: a DAG of float layers with inferred shapes (batch size 1).
//
// Layers are appended in topological order (a layer's inputs are earlier layers), and each add_*
// call infers and checks the output shape, throwing InvalidArgument naming the layer. Weights may
// be left empty (`with_weights = false` in the built-in networks) for shape-only work such as
// counting; anything that computes (engines, lowering) then throws InvalidArgument.
// Thread safety: a const Model may be shared.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/core/tensor.hpp"
#include "pinfer/nn/lowered_model.hpp"

namespace pinfer::nn {

enum class LayerKind {
  input,
  conv,        // weight O x (I / groups) x H x W, optional bias per output channel
  batch_norm,  // per channel: gamma * (x - mean) / sqrt(var + eps) + beta
  relu,
  max_pool,
  avg_pool,         // pads, ceil_mode, count_include_pad
  global_avg_pool,  // mean over H x W, output 1 x C x 1 x 1
  add,              // elementwise, equal shapes (residual)
  flatten,          // 1 x C x H x W -> 1 x CHW
  linear,           // weight [out, in], optional bias; input 1 x in
  clip,             // min(max(x, clip_min), clip_max) (ReLU6: 0, 6); infinite = no bound
  concat,           // along channels (axis 1), two or more inputs
};
[[nodiscard]] std::string_view to_string(LayerKind kind) noexcept;

struct ConvSpec {
  std::size_t out_channels = 0, kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1;
  std::size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::size_t groups = 1;
};

struct Layer {
  LayerKind kind = LayerKind::input;
  std::string name;
  std::vector<std::size_t> inputs;
  Shape shape;                                    // output shape
  ConvGeometry conv;                              // conv
  PoolSpec pool;                                  // max_pool, avg_pool
  std::size_t in_features = 0, out_features = 0;  // linear
  FloatTensor weight;                             // conv (OIHW), linear ([out, in])
  std::vector<float> bias;                        // conv, linear; empty = zero
  std::vector<float> gamma, beta, mean, var;      // batch_norm
  float epsilon = 1e-5f;                          // batch_norm
  float clip_min = 0, clip_max = 0;               // clip
};

class Model {
 public:
  // Requires a 1 x C x H x W input shape; throws InvalidArgument otherwise.
  Model(std::string name, Shape input_shape);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const Shape& input_shape() const noexcept { return layers_[0].shape; }
  [[nodiscard]] const std::vector<Layer>& layers() const noexcept { return layers_; }
  [[nodiscard]] const Layer& layer(std::size_t i) const { return layers_.at(i); }
  [[nodiscard]] std::size_t output() const noexcept { return output_; }
  [[nodiscard]] bool has_weights() const noexcept { return has_weights_; }

  // Appends a layer after checking its inputs and parameters and inferring `shape` (and the conv
  // geometry / linear sizes). Empty weights are allowed only if the model has none at all. The new
  // layer becomes the output. Returns its index. Throws InvalidArgument naming the layer.
  std::size_t add_layer(Layer layer);

  std::size_t add_conv(std::string name, std::size_t input, const ConvSpec& spec,
                       FloatTensor weight, std::vector<float> bias = {});
  std::size_t add_batch_norm(std::string name, std::size_t input, std::vector<float> gamma,
                             std::vector<float> beta, std::vector<float> mean,
                             std::vector<float> var, float epsilon);
  std::size_t add_relu(std::string name, std::size_t input);
  std::size_t add_max_pool(std::string name, std::size_t input, const PoolSpec& spec);
  std::size_t add_avg_pool(std::string name, std::size_t input, const PoolSpec& spec);
  std::size_t add_global_avg_pool(std::string name, std::size_t input);
  std::size_t add_add(std::string name, std::size_t a, std::size_t b);
  std::size_t add_flatten(std::string name, std::size_t input);
  std::size_t add_linear(std::string name, std::size_t input, FloatTensor weight,
                         std::vector<float> bias = {});
  std::size_t add_clip(std::string name, std::size_t input, float min, float max);
  std::size_t add_concat(std::string name, std::vector<std::size_t> inputs);

  // Makes layer i the network output (default: the last layer added).
  void set_output(std::size_t i);
  // Replaces the bias of conv / linear layer i (e.g. an ONNX Add of a constant after MatMul).
  // Throws InvalidArgument for another kind or a size mismatch.
  void set_bias(std::size_t i, std::vector<float> bias);

 private:
  std::string name_;
  std::vector<Layer> layers_;
  std::size_t output_ = 0;
  bool has_weights_ = true;
};

// Shape-level counts over the IR (the lowered model gives the same ReLU / comparison / MAC counts
// once average pools are folded, see docs/MODELS.md).
struct ModelCounts {
  std::size_t relus = 0;        // elements of every ReLU / Clip layer's output
  std::size_t comparisons = 0;  // max pool: (k_h * k_w - 1) per output
  std::size_t macs = 0;         // conv + linear multiply-accumulates
  std::size_t params = 0;       // conv + linear weights and biases, batch-norm parameters
  std::size_t activations = 0;  // elements of every layer output, input included
  std::size_t max_activation = 0;
};
[[nodiscard]] ModelCounts count(const Model& model);

// How many later layers read each layer (the output counts as one extra reader).
[[nodiscard]] std::vector<std::size_t> consumer_counts(const Model& model);

}  // namespace pinfer::nn
