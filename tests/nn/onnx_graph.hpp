#pragma once
// Builds small ONNX graphs (onnx::ModelProto) in test code, with reproducible random weights, the
// way torch.onnx.export writes them (opset 13, initializers, NCHW). Shared by tests/nn and
// tests/protocol (operator coverage: pads, ceil_mode, Concat, Clip, groups, BatchNorm, Softmax).
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "pinfer/nn/onnx_importer.hpp"

namespace pinfer::test_onnx {

// Attributes of a node under construction.
inline void set_ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int64_t x : v) a->add_ints(x);
}
inline void set_int(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(v);
}

class Graph {
 public:
  explicit Graph(std::vector<int64_t> input_dims, uint32_t seed = 1, int64_t opset = 13)
      : rng_(seed) {
    m_.set_ir_version(7);
    auto* o = m_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    auto* in = g_->add_input();
    in->set_name("x");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    for (int64_t d : input_dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
    channels_["x"] = input_dims[1];
  }

  // Conv with He-uniform weights and a small bias; returns the output name.
  std::string conv(const std::string& in, int64_t out_c, int64_t k, int64_t stride = 1,
                   int64_t pad = 0, int64_t groups = 1) {
    const std::string name = fresh("conv");
    const int64_t in_c = channels_.at(in);
    const float bound = std::sqrt(6.0f / static_cast<float>(in_c / groups * k * k));
    floats(name + ".w", {out_c, in_c / groups, k, k}, -bound, bound);
    floats(name + ".b", {out_c}, -0.1f, 0.1f);
    auto* n = node("Conv", name, {in, name + ".w", name + ".b"});
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {stride, stride});
    ints(n, "pads", {pad, pad, pad, pad});
    if (groups != 1) integer(n, "group", groups);
    channels_[name] = out_c;
    return name;
  }
  std::string batch_norm(const std::string& in) {
    const std::string name = fresh("bn");
    const int64_t c = channels_.at(in);
    floats(name + ".g", {c}, 0.5f, 1.5f);
    floats(name + ".b", {c}, -0.2f, 0.2f);
    floats(name + ".m", {c}, -0.2f, 0.2f);
    floats(name + ".v", {c}, 0.5f, 1.5f);
    node("BatchNormalization", name, {in, name + ".g", name + ".b", name + ".m", name + ".v"});
    channels_[name] = c;
    return name;
  }
  std::string relu(const std::string& in) { return unary("Relu", in); }
  std::string clip(const std::string& in, float lo, float hi) {
    const std::string name = fresh("clip");
    scalar(name + ".lo", lo);
    scalar(name + ".hi", hi);
    node("Clip", name, {in, name + ".lo", name + ".hi"});
    channels_[name] = channels_.at(in);
    return name;
  }
  std::string max_pool(const std::string& in, int64_t k, int64_t s, int64_t pad = 0,
                       bool ceil_mode = false) {
    auto* n = pool("MaxPool", in, k, s, pad, ceil_mode);
    return n->output(0);
  }
  std::string avg_pool(const std::string& in, int64_t k, int64_t s, int64_t pad = 0,
                       bool ceil_mode = false, bool count_include_pad = false) {
    auto* n = pool("AveragePool", in, k, s, pad, ceil_mode);
    if (count_include_pad) integer(n, "count_include_pad", 1);
    return n->output(0);
  }
  // PyTorch's export of AvgPool2d(count_include_pad=True, padding=pad): Pad then AveragePool.
  std::string pad_then_avg_pool(const std::string& in, int64_t k, int64_t s, int64_t pad) {
    const std::string name = fresh("pad");
    int64s(name + ".pads", {0, 0, pad, pad, 0, 0, pad, pad});
    node("Pad", name, {in, name + ".pads"});
    channels_[name] = channels_.at(in);
    return avg_pool(name, k, s);
  }
  std::string global_avg_pool(const std::string& in) { return unary("GlobalAveragePool", in); }
  std::string concat(const std::vector<std::string>& in) {
    const std::string name = fresh("concat");
    auto* n = node("Concat", name, in);
    integer(n, "axis", 1);
    int64_t c = 0;
    for (const auto& i : in) c += channels_.at(i);
    channels_[name] = c;
    return name;
  }
  std::string add(const std::string& a, const std::string& b) {
    const std::string name = fresh("add");
    node("Add", name, {a, b});
    channels_[name] = channels_.at(a);
    return name;
  }
  std::string flatten(const std::string& in) { return unary("Flatten", in); }
  // Gemm (transB = 1) from `in_features` inputs to `out` outputs.
  std::string gemm(const std::string& in, int64_t in_features, int64_t out) {
    const std::string name = fresh("fc");
    const float bound = std::sqrt(6.0f / static_cast<float>(in_features));
    floats(name + ".w", {out, in_features}, -bound, bound);
    floats(name + ".b", {out}, -0.1f, 0.1f);
    auto* n = node("Gemm", name, {in, name + ".w", name + ".b"});
    integer(n, "transB", 1);
    channels_[name] = out;
    return name;
  }
  std::string softmax(const std::string& in, bool log = false) {
    return unary(log ? "LogSoftmax" : "Softmax", in);
  }

  void output(const std::string& name) { g_->add_output()->set_name(name); }
  onnx::ModelProto& proto() { return m_; }
  [[nodiscard]] nn::Model load(const std::string& model_name = "test") const {
    std::string s;
    if (!m_.SerializeToString(&s)) throw std::runtime_error("cannot serialise test graph");
    std::vector<std::byte> b(s.size());
    std::memcpy(b.data(), s.data(), s.size());
    return nn::load_onnx_bytes(b, model_name);
  }
  static void ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    set_ints(n, name, std::move(v));
  }
  static void integer(onnx::NodeProto* n, const std::string& name, int64_t v) {
    set_int(n, name, v);
  }
  onnx::NodeProto* node(const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs) {
    auto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(name);
    return n;
  }

 private:
  std::string fresh(const std::string& stem) { return stem + std::to_string(++counter_); }
  std::string unary(const std::string& op, const std::string& in) {
    const std::string name = fresh(op);
    node(op, name, {in});
    channels_[name] = channels_.at(in);
    return name;
  }
  onnx::NodeProto* pool(const std::string& op, const std::string& in, int64_t k, int64_t s,
                        int64_t pad, bool ceil_mode) {
    const std::string name = fresh(op);
    auto* n = node(op, name, {in});
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {s, s});
    if (pad) ints(n, "pads", {pad, pad, pad, pad});
    if (ceil_mode) integer(n, "ceil_mode", 1);
    channels_[name] = channels_.at(in);
    return n;
  }
  void floats(const std::string& name, std::vector<int64_t> dims, float lo, float hi) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    std::uniform_real_distribution<float> u(lo, hi);
    for (int64_t i = 0; i < n; ++i) t->add_float_data(u(rng_));
  }
  void scalar(const std::string& name, float v) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    t->add_float_data(v);
  }
  void int64s(const std::string& name, std::vector<int64_t> v) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
  }

  onnx::ModelProto m_;
  onnx::GraphProto* g_ = m_.mutable_graph();
  std::mt19937 rng_;
  int counter_ = 0;
  std::map<std::string, int64_t> channels_;
};

// Small networks, one per operator family (input 1 x 3 x 7 x 7: odd sizes exercise partial
// windows). Each ends in logits (a Gemm), as the lowered form requires.
namespace models {

// The ImageNet ResNet stem (3x3 here, stride 2 max pool with padding 1) and a SqueezeNet-style
// ceil_mode max pool: 7x7 -> pool(3, 2, pad 1) 4x4 -> pool(3, 2, ceil) 2x2 (the last window
// holds 2 of its 3 rows and columns).
inline nn::Model max_pool_pads_ceil() {
  Graph g({1, 3, 7, 7}, 11);
  auto x = g.max_pool(g.relu(g.conv("x", 4, 3, 1, 1)), 3, 2, 1);
  x = g.max_pool(g.relu(g.conv(x, 4, 3, 1, 1)), 3, 2, 0, true);
  g.output(g.gemm(g.flatten(x), 4 * 2 * 2, 5));
  return g.load("max_pool_pads_ceil");
}

// Average pools with padding (count_include_pad 0 / 1), ceil_mode, or Pad + AveragePool, folded
// into the Gemm that reads them.
inline nn::Model avg_pool(int variant) {
  Graph g({1, 3, 7, 7}, 12 + static_cast<uint32_t>(variant));
  const auto r = g.relu(g.conv("x", 4, 3, 1, 1));
  std::string p;
  int64_t out = 0;
  switch (variant) {
    case 0:
      p = g.avg_pool(r, 3, 2, 1, false, false), out = 4;  // (7 + 2 - 3) / 2 + 1
      break;
    case 1:
      p = g.avg_pool(r, 3, 2, 1, false, true), out = 4;
      break;
    case 2:
      p = g.avg_pool(r, 2, 2, 0, true, false), out = 4;  // ceil((7 - 2) / 2) + 1
      break;
    case 3:
      p = g.avg_pool(r, 3, 2, 1, true, true), out = 4;
      break;
    default:
      p = g.pad_then_avg_pool(r, 3, 2, 1), out = 4;
      break;
  }
  g.output(g.gemm(g.flatten(p), 4 * out * out, 5));
  return g.load("avg_pool" + std::to_string(variant));
}

// DenseNet / SqueezeNet topologies: concatenations read by a conv, by another concatenation, by a
// max pool (folded into each part's ReLU stage when nothing else reads the part) and by a Gemm.
inline nn::Model concat() {
  Graph g({1, 3, 7, 7}, 21);
  const auto x0 = g.relu(g.conv("x", 4, 3, 1, 1));
  const auto x1 = g.relu(g.conv(x0, 3, 3, 1, 1));
  const auto c1 = g.concat({x0, x1});
  const auto x2 = g.relu(g.conv(c1, 2, 1));
  const auto c2 = g.concat({c1, x2});  // 9 channels, x0 and x1 also read elsewhere
  const auto e1 = g.relu(g.conv(c2, 3, 1));
  const auto e3 = g.relu(g.conv(c2, 3, 3, 1, 1));
  const auto fire = g.max_pool(g.concat({e1, e3}), 3, 2, 0, true);  // 6 x 3 x 3
  const auto y = g.concat({g.relu(g.conv(fire, 2, 1)), fire});      // 8 x 3 x 3
  g.output(g.gemm(g.flatten(y), 8 * 3 * 3, 5));
  return g.load("concat");
}

// ReLU6 (Clip 0..6), a clip with a negative lower bound, a max pool after a clipped conv
// output and a clip of an activation.
inline nn::Model clip() {
  Graph g({1, 3, 7, 7}, 31);
  auto x = g.clip(g.conv("x", 4, 3, 1, 1), 0.0f, 6.0f);
  x = g.clip(g.conv(x, 4, 3, 2, 1), -0.5f, 0.75f);  // 4 x 4 x 4, may be negative
  x = g.clip(g.relu(g.conv(x, 4, 1)), 0.0f, 0.5f);  // clip of a ReLU output
  g.output(g.gemm(g.flatten(x), 4 * 4 * 4, 5));
  return g.load("clip");
}

// MobileNet-v2 style: expansion, depthwise 3x3 (stride 1 and 2), linear bottleneck (no
// activation: the next conv reads a rescaled linear output), inverted residual, grouped conv.
inline nn::Model grouped() {
  Graph g({1, 3, 7, 7}, 41);
  auto x = g.clip(g.batch_norm(g.conv("x", 4, 3, 2, 1)), 0.0f, 6.0f);  // 4 x 4 x 4
  auto h = g.clip(g.batch_norm(g.conv(x, 8, 1)), 0.0f, 6.0f);          // expand
  h = g.clip(g.batch_norm(g.conv(h, 8, 3, 1, 1, 8)), 0.0f, 6.0f);      // depthwise
  const auto b = g.batch_norm(g.conv(h, 4, 1));                        // bottleneck
  const auto sum = g.add(b, x);                                        // residual
  h = g.relu(g.conv(sum, 6, 3, 2, 1, 2));                              // grouped, 2x2
  h = g.relu(g.conv(h, 6, 3, 1, 1, 6));                                // depthwise
  g.output(g.gemm(g.flatten(g.global_avg_pool(h)), 6, 5));
  return g.load("grouped");
}

// BatchNorm where it cannot fold into the conv before it: after a residual add, on an
// activation (DenseNet's BN-ReLU-conv on a concatenation), on an FC output; a final Softmax.
inline nn::Model batch_norm(bool log_softmax = false) {
  Graph g({1, 3, 7, 7}, 51);
  const auto x0 = g.relu(g.conv("x", 4, 3, 1, 1));
  const auto s = g.batch_norm(g.add(g.conv(x0, 4, 3, 1, 1), x0));  // BN of a sum with a shortcut
  const auto x1 = g.relu(s);
  const auto c = g.concat({x0, x1});
  const auto x2 = g.relu(g.batch_norm(c));         // BN of activations (per-channel linear op)
  const auto x3 = g.relu(g.conv(x2, 4, 3, 2, 1));  // 4 x 4 x 4
  const auto f = g.relu(g.batch_norm(g.gemm(g.flatten(x3), 64, 8)));
  g.output(g.softmax(g.gemm(f, 8, 5), log_softmax));
  return g.load("batch_norm");
}

// DenseNet's transition: BN-ReLU-conv1x1 then a 2x2 average pool that no Gemm reads (the next
// dense block's BatchNorm and Concat read it), so the pool is a linear layer of its own.
inline nn::Model densenet_transition() {
  Graph g({1, 3, 8, 8}, 81);
  const auto x0 = g.relu(g.conv("x", 4, 3, 1, 1));                               // 4 x 8 x 8
  const auto c1 = g.concat({x0, g.conv(g.relu(g.batch_norm(x0)), 2, 3, 1, 1)});  // 6 x 8 x 8
  const auto t = g.avg_pool(g.conv(g.relu(g.batch_norm(c1)), 4, 1), 2, 2);       // 4 x 4 x 4
  const auto c2 = g.concat({t, g.conv(g.relu(g.batch_norm(t)), 2, 3, 1, 1)});    // 6 x 4 x 4
  g.output(g.gemm(g.flatten(g.global_avg_pool(g.relu(g.batch_norm(c2)))), 6, 5));
  return g.load("densenet_transition");
}

// SqueezeNet's head: a fire module, a padded count_include_pad average pool read by a conv, the
// classifier conv + ReLU, and a global average pool as the network output (no Gemm at all).
inline nn::Model squeezenet_head() {
  Graph g({1, 3, 9, 9}, 91);
  const auto x = g.max_pool(g.relu(g.conv("x", 4, 3, 2)), 3, 2, 0, true);  // 4 x 2 x 2
  const auto s = g.relu(g.conv(x, 2, 1));
  const auto fire = g.concat({g.relu(g.conv(s, 3, 1)), g.relu(g.conv(s, 3, 3, 1, 1))});
  const auto p = g.avg_pool(fire, 3, 1, 1, false, true);  // every divisor 9: zero padding
  g.output(g.flatten(g.global_avg_pool(g.relu(g.conv(g.relu(g.conv(p, 4, 1)), 5, 1)))));
  return g.load("squeezenet_head");
}

}  // namespace models
}  // namespace pinfer::test_onnx
