#pragma once
// The lowered form of a CNN: exactly what the fixed-point engine and the secure protocols execute.
//
// A LoweredModel is a list of stages. Each stage is one garbled-circuit layer (or, for the last
// stage, the output): it sums some linear operations (convolutions or fully connected layers,
// each reading one earlier activation) and some identity shortcuts, then applies the non-linear
// step. Values are elements of Z_2^l; activations are at scale 2^f, linear outputs at 2^(2f).
//
// Semantics (the bit-exact oracle, see docs/MODELS.md "Lowered form"):
//   act[0] = encode_f(x)
//   for each stage s:  y = sum_{op in s.linear_ops} (W_op * act[op.input] + bias_op)
//                        + sum_{i in s.identity_inputs} act[i] * 2^f              (mod 2^l)
//     relu:          act[s.output] = ReLU(floor(signed(y) / 2^f))
//     relu_maxpool:  act[s.output] = max over each pool window of ReLU(floor(signed(y) / 2^f)),
//                    the window taking only the elements inside the input (padding never wins)
//     clip:          act[s.output] = min(max(floor(signed(y) / 2^f), clip_lo), clip_hi)
//     argmax:        act[s.output] = [the index of the first largest signed(y_i)] (an integer,
//                    1 x 1; only as the label-revealing step before the output, reveal_label)
//     topk:          act[s.output] = [the indices of the top_k largest signed(y_i), best first,
//                    equal values lower index first] (1 x top_k; before the output, reveal_top_k)
//     none (last):   act[s.output] = y, the logits at scale 2^(2f)
// Convolutions use zero padding; weights are at scale 2^f, biases at 2^(2f).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/core/ring.hpp"
#include "pinfer/core/tensor.hpp"

namespace pinfer::nn {

// Geometry of a 2-D convolution (dilation 1) over a 1 x in_channels x in_h x in_w input.
// With groups G > 1 the input and output channels split into G equal groups and output group g
// reads only input group g (depthwise: G = in_channels); weights are O x (in_channels / G) x kh x
// kw, and each group is evaluated on its own (never expanded to a dense kernel).
struct ConvGeometry {
  std::size_t in_channels = 0, in_h = 0, in_w = 0;
  std::size_t out_channels = 0;
  std::size_t kernel_h = 0, kernel_w = 0;
  std::size_t stride_h = 1, stride_w = 1;
  std::size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::size_t out_h = 0, out_w = 0;
  std::size_t groups = 1;

  // Output size from the other fields: (in + pads - kernel) / stride + 1 (floor).
  // Throws InvalidArgument if the kernel does not fit the padded input, a stride is 0, or the
  // groups do not divide the channels.
  void infer_output_size();
  [[nodiscard]] std::size_t group_in_channels() const noexcept { return in_channels / groups; }
  [[nodiscard]] std::size_t group_out_channels() const noexcept { return out_channels / groups; }
  // The geometry of one group (groups = 1); group g reads input channels [g Ig, (g+1) Ig) and
  // writes output channels [g Og, (g+1) Og), with weights rows [g Og, (g+1) Og).
  [[nodiscard]] ConvGeometry group_geometry() const noexcept;
  [[nodiscard]] std::size_t macs() const noexcept {
    return out_channels * out_h * out_w * group_in_channels() * kernel_h * kernel_w;
  }
  bool operator==(const ConvGeometry&) const = default;
};

// A 2-D pooling window (max or average) with PyTorch's semantics (docs/MODELS.md):
//   out = floor((in + pad_a + pad_b - k) / s) + 1, or with ceil_mode the ceiling, minus one if the
//   last window would start in the trailing padding (so every window holds an input element).
// Window (oh, ow) covers rows [oh s_h - pad_top, + k_h) clipped to the input; max pooling takes
// only those elements. Average pooling divides by the window clipped to the padded input
// (count_include_pad) or to the input (not count_include_pad).
struct PoolSpec {
  std::size_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1;
  std::size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool ceil_mode = false;
  bool count_include_pad = false;  // average pools only
  bool operator==(const PoolSpec&) const = default;

  [[nodiscard]] static PoolSpec square(std::size_t k, std::size_t s) { return {k, k, s, s}; }
  // Throws InvalidArgument if a kernel or stride is 0, a kernel exceeds the padded input or a pad
  // is not smaller than the kernel.
  [[nodiscard]] std::size_t out_h(std::size_t in_h) const;
  [[nodiscard]] std::size_t out_w(std::size_t in_w) const;
  struct Window {
    std::size_t h0 = 0, h1 = 0, w0 = 0, w1 = 0;  // input rows [h0, h1), columns [w0, w1)
    std::size_t divisor = 0;                     // average pooling divisor
  };
  [[nodiscard]] Window window(std::size_t oh, std::size_t ow, std::size_t in_h,
                              std::size_t in_w) const noexcept;
  [[nodiscard]] bool has_padding() const noexcept {
    return pad_top || pad_left || pad_bottom || pad_right;
  }
};

// Max pooling of a 1 x C x H x W tensor as a gather: for every output element (C x oh x ow, in
// order) kernel_h * kernel_w input indices, window positions outside the input replaced by the
// window's first input element (a repeat never changes the maximum, so padding never wins and no
// "-infinity" is needed in the ring). Both engines and the protocols' circuits use it.
[[nodiscard]] std::vector<uint32_t> max_pool_gather(const Shape& input, const PoolSpec& pool);

// A convolution (weights OIHW) or a fully connected layer (weights [out, in]).
struct LinearOp {
  enum class Kind { conv, fc };
  Kind kind = Kind::conv;
  ConvGeometry conv;                              // for conv
  std::size_t in_features = 0, out_features = 0;  // for fc: in = numel of the input activation
  std::size_t input = 0;  // index of the activation it reads (0 = network input)
  RingTensor weight;      // ring elements at scale 2^f
  RingTensor bias;        // ring elements at scale 2^(2f), one per output channel / feature
  std::string name;       // the source layer (for reports), e.g. "conv1"

  // Shape of W * x: 1 x O x out_h x out_w (conv) or 1 x out_features (fc).
  [[nodiscard]] Shape output_shape() const;
  [[nodiscard]] std::size_t macs() const noexcept {
    return kind == Kind::conv ? conv.macs() : in_features * out_features;
  }
};

struct NonLinear {
  enum class Kind { relu, relu_maxpool, none, clip, argmax, topk };
  Kind kind = Kind::relu;
  std::size_t top_k = 0;  // topk: the labels revealed (the stage's output size)
  PoolSpec pool;          // relu_maxpool (count_include_pad unused)
  // clip: bounds in ring units at scale f (set by quantize from clip_min / clip_max; a bound
  // beyond the representable range is no bound: the "rescale" stage that only truncates).
  int64_t clip_lo = 0, clip_hi = 0;
  double clip_min = 0, clip_max = 0;  // clip: the float bounds (before quantization)

  [[nodiscard]] static NonLinear of(Kind k) {
    NonLinear n;
    n.kind = k;
    return n;
  }
  [[nodiscard]] static NonLinear max_pool(std::size_t k, std::size_t s) {
    NonLinear n;
    n.kind = Kind::relu_maxpool;
    n.pool = PoolSpec::square(k, s);
    return n;
  }
};
inline constexpr int64_t kNoClipLow = std::numeric_limits<int64_t>::min() / 4;
inline constexpr int64_t kNoClipHigh = std::numeric_limits<int64_t>::max() / 4;

struct Stage {
  std::vector<std::size_t> linear_ops;       // summed (residual adds); each output at scale 2f
  std::vector<std::size_t> identity_inputs;  // activations added after multiplying by 2^f
  Shape pre_shape;                           // shape of the sum y: 1 x C x H x W or 1 x features
  NonLinear nonlinear;                       // none only for the last stage (logits at scale 2f)
  std::size_t output = 0;                    // activation index produced
};

struct LoweredModel {
  std::string name;
  unsigned l = 0;                        // ring bit width
  unsigned f = 0;                        // fractional bits
  Shape input_shape;                     // 1 x C x H x W
  std::vector<Shape> activation_shapes;  // [0] = input_shape, then one per stage output
  std::vector<LinearOp> linear_ops;
  std::vector<Stage> stages;
  // Quantization report: the largest |y| seen on the calibration set, as log2 of its value at
  // scale 2f in ring units, and the headroom l - 1 - log2(max |y|) in bits.
  double max_abs_preactivation_log2 = 0;
  double margin_bits = 0;
  std::size_t calibration_samples = 0;

  [[nodiscard]] Ring ring() const { return Ring(l); }
  [[nodiscard]] std::size_t num_classes() const { return stages.back().pre_shape.numel(); }
};

// Checks every index, shape and tensor size of a lowered model (e.g. one built by hand or
// received from elsewhere); throws InvalidArgument naming the stage / op and the mismatch.
void validate(const LoweredModel& model);

// Output shape of a stage after its non-linear step (the pooled shape for relu_maxpool).
[[nodiscard]] Shape stage_output_shape(const Stage& stage);

// What the client learns (docs/PROTOCOLS.md "What the client learns"): the logits (the lowered
// model as is) or only the predicted label. reveal_label appends an argmax stage over the logits
// and a last stage that outputs the label times 2^f, so the client's only output is
// [label * 2^f]. Throws InvalidArgument if the model already reveals the label.
[[nodiscard]] LoweredModel reveal_label(const LoweredModel& model);
[[nodiscard]] bool reveals_label(const LoweredModel& model) noexcept;
// The k best labels in order (--reveal topk:K): a topk stage over the logits and a last stage
// that outputs the k labels times 2^f. k = 1 is reveal_label. Throws InvalidArgument if the model
// already reveals labels or unless 1 <= k <= the number of classes.
[[nodiscard]] LoweredModel reveal_top_k(const LoweredModel& model, std::size_t k);
// How many labels the model reveals: 0 (the logits), 1 (reveal_label) or k (reveal_top_k).
[[nodiscard]] std::size_t revealed_labels(const LoweredModel& model) noexcept;
// "logits", "label" or "topk:K": what a client of this model learns.
[[nodiscard]] std::string reveals(const LoweredModel& model);
// What `reveal` ("logits", "label" or "topk:K") asks for: 0 labels (the logits), 1 or K;
// nullopt if it is none of those forms (or K is 0 or above 65536).
[[nodiscard]] std::optional<std::size_t> parse_reveal(std::string_view reveal) noexcept;
// The model a server runs so that its clients learn `reveal`: the model as is for "logits",
// else reveal_top_k. Throws InvalidArgument for a malformed value or a K above the class count.
[[nodiscard]] LoweredModel apply_reveal(const LoweredModel& model, std::string_view reveal);
// The k best classes of a logit vector (ring elements, signed), best first, equal values lower
// index first: what a topk stage (and the top-k circuit) computes. Requires k <= logits.size().
[[nodiscard]] std::vector<std::size_t> top_k_classes(const Ring& ring,
                                                     std::span<const uint64_t> logits,
                                                     std::size_t k);

// Counts that the protocols need (public, shape-only).
struct LoweredCounts {
  std::size_t relus = 0;        // ReLU neurons: numel(pre_shape) of every non-final stage
  std::size_t comparisons = 0;  // max-pool comparisons: (k_h k_w - 1) per pooled output
  std::size_t macs = 0;         // multiply-accumulates of all linear ops
  std::size_t params = 0;       // weights + biases
};
[[nodiscard]] LoweredCounts count(const LoweredModel& model);

}  // namespace pinfer::nn
