#include "pinfer/nn/onnx_importer.hpp"

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "onnx_tensor.hpp"
#include "pinfer/core/capped_read.hpp"
#include "pinfer/core/checked_math.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::nn {

using detail::Constant;
using detail::decode_onnx_tensor;

namespace {

constexpr int64_t kMinOpset = 11;
constexpr int64_t kMaxOpset = 17;

class Importer {
 public:
  Importer(const onnx::ModelProto& proto, std::string name, const OnnxLimits& limits)
      : proto_(proto), name_(std::move(name)), limits_(limits) {}

  Model run() {
    check_opset();
    const onnx::GraphProto& g = proto_.graph();
    if (static_cast<std::size_t>(g.node_size()) > limits_.max_nodes) {
      throw FormatError("ONNX graph has " + std::to_string(g.node_size()) +
                        " nodes, exceeding max_nodes " + std::to_string(limits_.max_nodes));
    }
    for (const onnx::TensorProto& t : g.initializer()) {
      constants_[t.name()] = decode_tensor(t, "initializer " + t.name());
    }
    for (const onnx::NodeProto& n : g.node()) {
      for (const std::string& in : n.input()) ++readers_[in];
    }
    Model model = make_input();
    model_ = &model;
    for (int i = 0; i < g.node_size(); ++i) import_node(g.node(i), i);
    if (g.output_size() == 0) throw FormatError("ONNX graph has no output");
    if (g.output_size() != 1) {
      throw Unsupported("ONNX graph has " + std::to_string(g.output_size()) +
                        " outputs; exactly one (the logits) is supported");
    }
    model.set_output(layer_of(g.output(0).name(), "graph output"));
    return model;
  }

 private:
  void check_opset() {
    std::optional<int64_t> opset;
    for (const onnx::OperatorSetIdProto& o : proto_.opset_import()) {
      if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
    }
    if (!opset) throw FormatError("ONNX model has no default-domain opset_import");
    opset_ = *opset;
    if (*opset < kMinOpset || *opset > kMaxOpset) {
      throw Unsupported("ONNX opset " + std::to_string(*opset) + " is outside the supported " +
                        std::to_string(kMinOpset) + ".." + std::to_string(kMaxOpset));
    }
    if (!proto_.has_graph()) throw FormatError("ONNX model has no graph");
  }

  Constant decode_tensor(const onnx::TensorProto& t, const std::string& what) const {
    return decode_onnx_tensor(t, what, limits_.max_tensor_elements);
  }

  Model make_input() {
    const onnx::GraphProto& g = proto_.graph();
    const onnx::ValueInfoProto* input = nullptr;
    for (const onnx::ValueInfoProto& v : g.input()) {
      if (constants_.count(v.name())) continue;  // old exporters list initializers as inputs
      if (input) throw Unsupported("ONNX graph has more than one non-constant input");
      input = &v;
    }
    if (!input) throw FormatError("ONNX graph has no input");
    if (!input->type().has_tensor_type()) {
      throw Unsupported("graph input " + input->name() + " is not a tensor");
    }
    const auto& tt = input->type().tensor_type();
    if (tt.elem_type() != onnx::TensorProto_DataType_FLOAT) {
      throw Unsupported("graph input " + input->name() + " has element type " +
                        std::to_string(tt.elem_type()) + ", expected float32");
    }
    const auto& dims = tt.shape().dim();
    if (dims.size() != 4) {
      throw Unsupported("graph input " + input->name() + " has rank " +
                        std::to_string(dims.size()) + ", expected 4 (NCHW)");
    }
    std::vector<std::size_t> shape;
    for (int i = 0; i < 4; ++i) {
      const auto& d = dims[i];
      if (d.has_dim_value()) {
        if (d.dim_value() <= 0 || d.dim_value() > (int64_t{1} << 20)) {
          throw FormatError("graph input " + input->name() + " dimension " + std::to_string(i) +
                            " is " + std::to_string(d.dim_value()));
        }
        shape.push_back(static_cast<std::size_t>(d.dim_value()));
      } else if (i == 0) {
        shape.push_back(1);  // symbolic batch dimension
      } else {
        throw Unsupported("graph input " + input->name() + " has a symbolic dimension " +
                          std::to_string(i));
      }
    }
    if (shape[0] != 1) {
      throw Unsupported("graph input " + input->name() + " has batch size " +
                        std::to_string(shape[0]) + ", expected 1");
    }
    uint64_t n = 1;
    for (std::size_t d : shape) n = checked_mul(n, d, "graph input element count");
    if (n > limits_.max_tensor_elements) {
      throw FormatError("graph input " + input->name() + " has " + std::to_string(n) +
                        " elements, exceeding max_tensor_elements " +
                        std::to_string(limits_.max_tensor_elements));
    }
    Model m(name_, Shape(shape));
    layers_[input->name()] = 0;
    return m;
  }

  // --- per-node helpers; `node_` is the node being imported, for messages ---
  [[noreturn]] void unsupported(const std::string& why) const {
    throw Unsupported("node " + node_name_ + " (" + node_->op_type() + "): " + why);
  }
  [[noreturn]] void format_error(const std::string& why) const {
    throw FormatError("node " + node_name_ + " (" + node_->op_type() + "): " + why);
  }

  std::size_t layer_of(const std::string& value, const std::string& what) const {
    const auto it = layers_.find(value);
    if (it == layers_.end()) {
      if (constants_.count(value)) {
        throw Unsupported(what + " '" + value + "' is a constant, expected a computed tensor");
      }
      throw FormatError(what + " '" + value + "' is not defined before its use");
    }
    return it->second;
  }
  std::size_t input_layer(int k) const {
    if (node_->input_size() <= k) format_error("missing input " + std::to_string(k));
    const auto it = layers_.find(node_->input(k));
    if (it == layers_.end()) {
      if (constants_.count(node_->input(k))) {
        unsupported("input " + std::to_string(k) + " '" + node_->input(k) +
                    "' is a constant, expected a computed tensor");
      }
      format_error("input '" + node_->input(k) + "' is not defined before its use");
    }
    return it->second;
  }
  const Constant& constant_input(int k, std::size_t rank, bool is_float = true) const {
    if (node_->input_size() <= k || node_->input(k).empty()) {
      format_error("missing input " + std::to_string(k));
    }
    const auto it = constants_.find(node_->input(k));
    if (it == constants_.end()) {
      if (layers_.count(node_->input(k))) {
        unsupported("input " + std::to_string(k) + " must be a constant (initializer)");
      }
      format_error("input '" + node_->input(k) + "' is not defined before its use");
    }
    if (it->second.dims.size() != rank) {
      unsupported("input " + std::to_string(k) + " '" + node_->input(k) + "' has rank " +
                  std::to_string(it->second.dims.size()) + ", expected " + std::to_string(rank));
    }
    if (it->second.is_float != is_float) {
      unsupported("input " + std::to_string(k) + " has the wrong element type");
    }
    return it->second;
  }
  bool has_input(int k) const { return node_->input_size() > k && !node_->input(k).empty(); }

  const onnx::AttributeProto* attribute(const std::string& name) const {
    for (const onnx::AttributeProto& a : node_->attribute()) {
      if (a.name() == name) return &a;
    }
    return nullptr;
  }
  std::vector<int64_t> ints(const std::string& name, std::vector<int64_t> fallback) const {
    const onnx::AttributeProto* a = attribute(name);
    if (!a) return fallback;
    return {a->ints().begin(), a->ints().end()};
  }
  int64_t int_attr(const std::string& name, int64_t fallback) const {
    const onnx::AttributeProto* a = attribute(name);
    return a ? a->i() : fallback;
  }
  float float_attr(const std::string& name, float fallback) const {
    const onnx::AttributeProto* a = attribute(name);
    return a ? a->f() : fallback;
  }
  void require_no_auto_pad() const {
    const onnx::AttributeProto* a = attribute("auto_pad");
    if (a && a->s() != "NOTSET" && a->s() != "VALID") {
      unsupported("auto_pad " + a->s() + " is not supported (export with explicit pads)");
    }
  }
  std::vector<std::size_t> sizes(const std::string& attr, std::vector<int64_t> fallback,
                                 std::size_t n, bool allow_zero) const {
    const std::vector<int64_t> v = ints(attr, std::move(fallback));
    if (v.size() != n) {
      unsupported(attr + " has " + std::to_string(v.size()) + " values, expected " +
                  std::to_string(n) + " (2-D only)");
    }
    std::vector<std::size_t> out;
    for (int64_t x : v) {
      if (x < (allow_zero ? 0 : 1) || x > 4096) {
        format_error(attr + " value " + std::to_string(x) + " is out of range");
      }
      out.push_back(static_cast<std::size_t>(x));
    }
    return out;
  }
  void require_ones(const std::string& attr) const {
    for (int64_t x : ints(attr, {})) {
      if (x != 1) unsupported(attr + " other than 1 is not supported");
    }
  }
  void require_spatial_input(std::size_t layer) const {
    const Shape& s = model_->layer(layer).shape;
    if (s.rank() != 4) {
      unsupported("input has rank " + std::to_string(s.rank()) + ", expected 4 (NCHW)");
    }
  }

  // Wraps IR shape checks (InvalidArgument) into FormatError naming the node.
  template <typename F>
  std::size_t add(F&& f) {
    try {
      return f();
    } catch (const InvalidArgument& e) {
      format_error(e.what());
    }
  }

  void define(std::size_t layer) {
    if (node_->output_size() < 1 || node_->output(0).empty()) format_error("has no output");
    for (int k = 1; k < node_->output_size(); ++k) {
      if (!node_->output(k).empty() && readers_[node_->output(k)] > 0) {
        unsupported("output " + std::to_string(k) + " ('" + node_->output(k) +
                    "') is used; only the first output is supported");
      }
    }
    const std::size_t n = model_->layer(layer).shape.numel();
    if (n > limits_.max_tensor_elements) {
      format_error("output of " + std::to_string(n) + " elements exceeds max_tensor_elements " +
                   std::to_string(limits_.max_tensor_elements));
    }
    layers_[node_->output(0)] = layer;
  }

  PoolSpec pool_spec(bool average) const {
    require_no_auto_pad();
    const int64_t ceil_mode = int_attr("ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1) unsupported("ceil_mode " + std::to_string(ceil_mode));
    if (int_attr("storage_order", 0) != 0) unsupported("storage_order=1 is not supported");
    require_ones("dilations");
    const auto k = sizes("kernel_shape", {}, 2, false);
    const auto s = sizes("strides", {1, 1}, 2, false);
    const auto p = sizes("pads", {0, 0, 0, 0}, 4, true);
    PoolSpec spec{k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3], ceil_mode == 1};
    if (average) {
      const int64_t cip = int_attr("count_include_pad", 0);
      if (cip != 0 && cip != 1) unsupported("count_include_pad " + std::to_string(cip));
      spec.count_include_pad = cip == 1;
    }
    // ONNX pads are [top, left, bottom, right] (x1_begin, x2_begin, x1_end, x2_end).
    return spec;
  }

  // AveragePool (possibly after a zero Pad that only it reads: PyTorch's export of
  // count_include_pad = True, which is the same as the pool's own pads counted in the divisor).
  void import_avg_pool() {
    std::size_t x = input_layer(0);
    require_spatial_input(x);
    PoolSpec p = pool_spec(true);
    const auto pad = pending_pads_.find(node_->input(0));
    if (pad != pending_pads_.end()) {
      if (p.has_padding()) unsupported("pads after a Pad node are not supported");
      const auto& v = pad->second;
      p.pad_top = v[0];
      p.pad_left = v[1];
      p.pad_bottom = v[2];
      p.pad_right = v[3];
      p.count_include_pad = true;
    }
    define(add([&] { return model_->add_avg_pool(node_name_, x, p); }));
  }

  // Clip with constant bounds (opset 11+: optional inputs min, max; absent = unbounded).
  void import_clip() {
    const std::size_t x = input_layer(0);
    if (attribute("min") || attribute("max")) {
      unsupported("min / max attributes (opset < 11) are not supported");
    }
    float lo = -std::numeric_limits<float>::infinity();
    float hi = std::numeric_limits<float>::infinity();
    for (int k : {1, 2}) {
      if (!has_input(k)) continue;
      const auto it = constants_.find(node_->input(k));
      if (it == constants_.end())
        unsupported((k == 1 ? "min" : "max") + std::string(" must be a constant"));
      if (!it->second.is_float || it->second.floats.size() != 1) {
        unsupported((k == 1 ? "min" : "max") + std::string(" must be one float32 value"));
      }
      (k == 1 ? lo : hi) = it->second.floats[0];
    }
    if (!(lo <= hi))
      unsupported("min " + std::to_string(lo) + " exceeds max " + std::to_string(hi));
    define(add([&] { return model_->add_clip(node_name_, x, lo, hi); }));
  }

  void import_concat() {
    const onnx::AttributeProto* a = attribute("axis");
    if (!a) format_error("has no axis attribute");
    std::vector<std::size_t> in;
    for (int k = 0; k < node_->input_size(); ++k) in.push_back(input_layer(k));
    const int64_t rank = static_cast<int64_t>(model_->layer(in[0]).shape.rank());
    if (a->i() != 1 && a->i() != 1 - rank) {
      unsupported("axis " + std::to_string(a->i()) + " is not supported (channels only, axis 1)");
    }
    if (in.size() == 1) {
      define(in[0]);
      return;
    }
    define(add([&] { return model_->add_concat(node_name_, in); }));
  }

  // A final Softmax / LogSoftmax is monotone: the predicted label is that of the logits, so it is
  // dropped (the client receives the logits). Anywhere else it is refused.
  void import_softmax() {
    const std::size_t x = input_layer(0);
    const onnx::GraphProto& g = proto_.graph();
    const bool is_output = node_->output_size() == 1 && g.output_size() == 1 &&
                           g.output(0).name() == node_->output(0) &&
                           readers_[node_->output(0)] == 0;
    if (!is_output)
      unsupported("only a final Softmax / LogSoftmax (the graph output) is supported");
    const Shape& s = model_->layer(x).shape;
    const int64_t axis = int_attr("axis", node_->op_type() == "Softmax" && opset_ < 13 ? 1 : -1);
    const int64_t rank = static_cast<int64_t>(s.rank());
    if (rank != 2 || (axis != 1 && axis != -1)) {
      unsupported("axis " + std::to_string(axis) + " on a rank-" + std::to_string(rank) +
                  " input: only over the classes of a 1 x N output");
    }
    define(x);
  }

  void import_conv() {
    const std::size_t x = input_layer(0);
    require_spatial_input(x);
    const Constant& w = constant_input(1, 4);
    require_no_auto_pad();
    require_ones("dilations");
    const int64_t group = int_attr("group", 1);
    const std::size_t in_c = model_->layer(x).shape[1];
    if (group < 1 || static_cast<uint64_t>(group) > in_c ||
        in_c % static_cast<uint64_t>(group) != 0 || w.dims[0] % static_cast<uint64_t>(group) != 0) {
      format_error("group " + std::to_string(group) + " does not divide the " +
                   std::to_string(in_c) + " input and " + std::to_string(w.dims[0]) +
                   " output channels");
    }
    const auto s = sizes("strides", {1, 1}, 2, false);
    const auto p = sizes("pads", {0, 0, 0, 0}, 4, true);
    const auto k =
        sizes("kernel_shape", {static_cast<int64_t>(w.dims[2]), static_cast<int64_t>(w.dims[3])}, 2,
              false);
    if (k[0] != w.dims[2] || k[1] != w.dims[3]) format_error("kernel_shape does not match weight");
    std::vector<float> bias;
    if (has_input(2)) {
      const Constant& b = constant_input(2, 1);
      bias = b.floats;
    }
    ConvSpec spec{w.dims[0], k[0], k[1], s[0], s[1],
                  p[0],      p[1], p[2], p[3], static_cast<std::size_t>(group)};
    define(add([&] {
      return model_->add_conv(node_name_, x, spec, FloatTensor(Shape(w.dims), w.floats),
                              std::move(bias));
    }));
  }

  void import_batch_norm() {
    const std::size_t x = input_layer(0);
    if (int_attr("training_mode", 0) != 0) unsupported("training_mode=1 is not supported");
    const Constant& g = constant_input(1, 1);
    const Constant& b = constant_input(2, 1);
    const Constant& m = constant_input(3, 1);
    const Constant& v = constant_input(4, 1);
    const float eps = float_attr("epsilon", 1e-5f);
    define(add([&] {
      return model_->add_batch_norm(node_name_, x, g.floats, b.floats, m.floats, v.floats, eps);
    }));
  }

  // Gemm: Y = alpha * A * op(B) + beta * C, with A the activation; MatMul: Y = A * B.
  void import_linear(bool gemm) {
    const std::size_t x = input_layer(0);
    const Shape& in = model_->layer(x).shape;
    if (in.rank() != 2) {
      unsupported("input has rank " + std::to_string(in.rank()) + ", expected 2 (flatten first)");
    }
    if (gemm && int_attr("transA", 0) != 0) unsupported("transA=1 is not supported");
    const bool trans_b = gemm && int_attr("transB", 0) != 0;
    const float alpha = gemm ? float_attr("alpha", 1.0f) : 1.0f;
    const float beta = gemm ? float_attr("beta", 1.0f) : 1.0f;
    const Constant& b = constant_input(1, 2);
    const std::size_t out = trans_b ? b.dims[0] : b.dims[1];
    const std::size_t in_f = trans_b ? b.dims[1] : b.dims[0];
    if (in_f != in[1]) {
      format_error("weight takes " + std::to_string(in_f) + " inputs, the input has " +
                   std::to_string(in[1]));
    }
    FloatTensor w(Shape{out, in_f});
    for (std::size_t o = 0; o < out; ++o) {
      for (std::size_t i = 0; i < in_f; ++i) {
        w[o * in_f + i] = alpha * (trans_b ? b.floats[o * in_f + i] : b.floats[i * out + o]);
      }
    }
    std::vector<float> bias;
    if (gemm && has_input(2)) {
      const auto it = constants_.find(node_->input(2));
      if (it == constants_.end()) unsupported("input 2 (C) must be a constant");
      const Constant& c = it->second;
      if (c.floats.size() != out) {
        unsupported("bias C with " + std::to_string(c.floats.size()) +
                    " values does not broadcast as one per output");
      }
      for (float v : c.floats) bias.push_back(beta * v);
    }
    define(add([&] { return model_->add_linear(node_name_, x, std::move(w), std::move(bias)); }));
  }

  void import_add() {
    if (node_->input_size() != 2) format_error("expects 2 inputs");
    const bool c0 = constants_.count(node_->input(0)) > 0;
    const bool c1 = constants_.count(node_->input(1)) > 0;
    if (!c0 && !c1) {
      const std::size_t a = input_layer(0), b = input_layer(1);
      define(add([&] { return model_->add_add(node_name_, a, b); }));
      return;
    }
    if (c0 && c1) unsupported("adding two constants is not supported");
    // Add of a constant: a bias after a MatMul / Conv that only this node reads.
    const int k = c0 ? 1 : 0;
    const std::size_t x = input_layer(k);
    const Constant& c = constants_.at(node_->input(1 - k));
    const Layer& producer = model_->layer(x);
    const bool biasable =
        (producer.kind == LayerKind::linear || producer.kind == LayerKind::conv) &&
        readers_[node_->input(k)] == 1;
    const std::size_t channels = producer.shape.rank() >= 2 ? producer.shape[1] : 0;
    std::size_t numel = 1;
    for (std::size_t d : c.dims) numel *= d;
    if (!biasable || !c.is_float || numel != channels) {
      unsupported("Add of a constant is only supported as a per-output bias of a MatMul / Conv");
    }
    std::vector<float> bias =
        producer.bias.empty() ? std::vector<float>(channels, 0.0f) : producer.bias;
    for (std::size_t i = 0; i < channels; ++i) bias[i] += c.floats[i];
    add([&] {
      model_->set_bias(x, std::move(bias));
      return x;
    });
    define(x);
  }

  void import_reshape() {
    const std::size_t x = input_layer(0);
    const Constant& shape = constant_input(1, 1, false);
    const Shape& in = model_->layer(x).shape;
    const std::size_t n = in.numel();
    const auto& t = shape.ints;
    const bool flat = t.size() == 2 && (t[0] == 1 || t[0] == -1 || t[0] == 0) &&
                      (t[1] == -1 || t[1] == static_cast<int64_t>(n));
    if (!flat) unsupported("only a reshape to [1, -1] (flatten) is supported");
    if (in.rank() == 2) {
      define(x);
    } else {
      define(add([&] { return model_->add_flatten(node_name_, x); }));
    }
  }

  void import_node(const onnx::NodeProto& n, int index) {
    node_ = &n;
    node_name_ = n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
    if (!n.domain().empty() && n.domain() != "ai.onnx") {
      unsupported("operator domain '" + n.domain() + "' is not supported");
    }
    const std::string& op = n.op_type();
    if (op == "Conv") {
      import_conv();
    } else if (op == "BatchNormalization") {
      import_batch_norm();
    } else if (op == "Relu") {
      const std::size_t x = input_layer(0);
      define(add([&] { return model_->add_relu(node_name_, x); }));
    } else if (op == "MaxPool") {
      const std::size_t x = input_layer(0);
      require_spatial_input(x);
      const PoolSpec p = pool_spec(false);
      define(add([&] { return model_->add_max_pool(node_name_, x, p); }));
    } else if (op == "AveragePool") {
      import_avg_pool();
    } else if (op == "Clip") {
      import_clip();
    } else if (op == "Concat") {
      import_concat();
    } else if (op == "Softmax" || op == "LogSoftmax") {
      import_softmax();
    } else if (op == "GlobalAveragePool") {
      const std::size_t x = input_layer(0);
      require_spatial_input(x);
      define(add([&] { return model_->add_global_avg_pool(node_name_, x); }));
    } else if (op == "Add") {
      import_add();
    } else if (op == "Flatten") {
      const std::size_t x = input_layer(0);
      if (int_attr("axis", 1) != 1) unsupported("axis other than 1 is not supported");
      if (model_->layer(x).shape.rank() == 2) {
        define(x);
      } else {
        define(add([&] { return model_->add_flatten(node_name_, x); }));
      }
    } else if (op == "Reshape") {
      import_reshape();
    } else if (op == "Gemm") {
      import_linear(true);
    } else if (op == "MatMul") {
      import_linear(false);
    } else if (op == "Identity" || op == "Dropout") {
      const auto c = n.input_size() > 0 ? constants_.find(n.input(0)) : constants_.end();
      if (c != constants_.end() && n.output_size() >= 1) {
        // PyTorch deduplicates equal initializers through Identity nodes: alias the constant.
        Constant copy = c->second;
        constants_[n.output(0)] = std::move(copy);
      } else {
        define(input_layer(0));
      }
    } else if (op == "Pad") {
      const std::size_t x = input_layer(0);
      const onnx::AttributeProto* mode = attribute("mode");
      if (mode && mode->s() != "constant") unsupported("pad mode " + mode->s());
      const Constant& pads = constant_input(1, 1, false);
      if (has_input(2)) {
        const auto c = constants_.find(n.input(2));
        if (c == constants_.end() || !c->second.is_float || c->second.floats.size() != 1 ||
            c->second.floats[0] != 0.0f) {
          unsupported("only padding with the constant 0 is supported");
        }
      }
      bool zero = true;
      for (int64_t v : pads.ints) zero &= v == 0;
      if (zero) {
        define(x);
        return;
      }
      // Non-zero spatial pads [0, 0, t, l, 0, 0, b, r], read only by an AveragePool (PyTorch's
      // export of count_include_pad = True): merged into that pool.
      const auto& v = pads.ints;
      const bool spatial = v.size() == 8 && v[0] == 0 && v[1] == 0 && v[4] == 0 && v[5] == 0 &&
                           v[2] >= 0 && v[3] >= 0 && v[6] >= 0 && v[7] >= 0 && v[2] <= 4096 &&
                           v[3] <= 4096 && v[6] <= 4096 && v[7] <= 4096;
      bool only_avg = readers_[n.output(0)] > 0;
      for (const onnx::NodeProto& r : proto_.graph().node()) {
        for (const std::string& in : r.input()) {
          if (in == n.output(0) && r.op_type() != "AveragePool") only_avg = false;
        }
      }
      if (!spatial || !only_avg) {
        unsupported("non-zero padding is supported only on H and W before an AveragePool");
      }
      pending_pads_[n.output(0)] = {static_cast<std::size_t>(v[2]), static_cast<std::size_t>(v[3]),
                                    static_cast<std::size_t>(v[6]), static_cast<std::size_t>(v[7])};
      define(x);
    } else if (op == "Constant") {
      const onnx::AttributeProto* v = attribute("value");
      if (!v || !v->has_t()) unsupported("only a Constant with a tensor 'value' is supported");
      if (n.output_size() != 1) format_error("expects one output");
      constants_[n.output(0)] = decode_tensor(v->t(), "node " + node_name_ + " (Constant)");
    } else {
      unsupported("operator " + op + " is not supported");
    }
  }

  const onnx::ModelProto& proto_;
  std::string name_;
  OnnxLimits limits_;
  std::map<std::string, Constant> constants_;
  std::map<std::string, std::size_t> layers_;
  std::map<std::string, std::size_t> readers_;
  std::map<std::string, std::vector<std::size_t>> pending_pads_;  // Pad output -> t, l, b, r
  int64_t opset_ = 0;
  Model* model_ = nullptr;
  const onnx::NodeProto* node_ = nullptr;
  std::string node_name_;
};

}  // namespace

Model load_onnx_bytes(std::span<const std::byte> bytes, std::string name,
                      const OnnxLimits& limits) {
  if (bytes.size() > limits.max_file_bytes) {
    throw FormatError("ONNX model of " + std::to_string(bytes.size()) +
                      " bytes exceeds max_file_bytes " + std::to_string(limits.max_file_bytes));
  }
  onnx::ModelProto proto;
  if (bytes.empty() || !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw FormatError("ONNX model " + name + " is not a valid ModelProto (corrupt or truncated, " +
                      std::to_string(bytes.size()) + " bytes)");
  }
  return Importer(proto, std::move(name), limits).run();
}

Model load_onnx_file(const std::filesystem::path& path, const OnnxLimits& limits) {
  const SecretBuffer<std::byte> bytes = read_file_capped(path, limits.max_file_bytes);
  return load_onnx_bytes(bytes.span(), path.stem().string(), limits);
}

}  // namespace pinfer::nn
