// plan_lowering: IR -> the lowered structure with float parameters (see quantizer.hpp).
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/batch_norm_folding.hpp"
#include "pinfer/nn/quantizer.hpp"

namespace pinfer::nn {

namespace {

// What a layer's output is in the lowered form.
struct Value {
  enum class Kind {
    none,         // not computed (layer not needed for the output)
    activation,   // a materialised activation (scale f): the input or a stage output
    sum,          // a stage sum not yet through its non-linear step (scale 2f)
    pooled_sum,   // max pool applied to a sum; must be followed by a ReLU
    avg_pending,  // average pool of an activation; must be followed (via Flatten) by a Linear
  };
  Kind kind = Kind::none;
  std::size_t act = 0;                // activation, avg_pending
  std::size_t producer = 0;           // activation: the ReLU layer whose stage produced it
  std::vector<std::size_t> ops, ids;  // sum, pooled_sum
  Shape shape;                        // sum: the stage pre-shape
  PoolSpec pool;                      // pooled_sum, avg_pending
};

std::string describe(Value::Kind k) {
  switch (k) {
    case Value::Kind::none:
      return "nothing";
    case Value::Kind::activation:
      return "an activation";
    case Value::Kind::sum:
      return "a linear layer output (no ReLU in between)";
    case Value::Kind::pooled_sum:
      return "a max pool of a linear output";
    case Value::Kind::avg_pending:
      return "an average pool";
  }
  return "?";
}

class Lowerer {
 public:
  explicit Lowerer(const Model& m) : m_(m), readers_(consumer_counts(m)), vals_(m.layers().size()) {
    LoweredModel& s = plan_.structure;
    s.name = m.name();
    s.input_shape = m.input_shape();
    s.activation_shapes.push_back(s.input_shape);
  }

  LoweredPlan run() {
    const auto& layers = m_.layers();
    std::vector<bool> live(layers.size(), false);
    live[m_.output()] = true;
    for (std::size_t i = layers.size(); i-- > 0;) {
      if (!live[i]) continue;
      for (std::size_t in : layers[i].inputs) live[in] = true;
    }
    vals_[0].kind = Value::Kind::activation;
    vals_[0].act = 0;
    for (std::size_t i = 1; i < layers.size(); ++i) {
      if (!live[i]) continue;
      lower_layer(i);
      const Value::Kind k = vals_[i].kind;
      if ((k == Value::Kind::sum || k == Value::Kind::pooled_sum ||
           k == Value::Kind::avg_pending) &&
          readers_[i] > 1) {
        unsupported(layers[i], "its output (" + describe(k) + ") is read by " +
                                   std::to_string(readers_[i]) +
                                   " layers; only ReLU outputs may be shared");
      }
    }
    const Layer& out = layers[m_.output()];
    const Value& v = vals_[m_.output()];
    if (v.kind != Value::Kind::sum) {
      unsupported(out, "the network output must be a Conv / Linear layer (the logits), got " +
                           describe(v.kind));
    }
    new_stage(v, NonLinear{NonLinear::Kind::none});
    return std::move(plan_);
  }

 private:
  [[noreturn]] static void unsupported(const Layer& l, const std::string& why) {
    throw Unsupported("layer " + l.name + " (" + std::string(to_string(l.kind)) + "): " + why);
  }

  const Value& input_value(const Layer& l, std::size_t k = 0) const { return vals_[l.inputs[k]]; }

  std::size_t new_stage(const Value& v, NonLinear nl) {
    LoweredModel& s = plan_.structure;
    Stage st;
    st.linear_ops = v.ops;
    st.identity_inputs = v.ids;
    st.pre_shape = v.shape;
    st.nonlinear = nl;
    st.output = s.stages.size() + 1;
    s.activation_shapes.push_back(stage_output_shape(st));
    s.stages.push_back(std::move(st));
    return s.stages.back().output;
  }

  static void check_square_pool(const Layer& l) {
    const PoolSpec& p = l.pool;
    if (p.kernel_h != p.kernel_w || p.stride_h != p.stride_w) {
      unsupported(l, "only square max pools with equal strides are supported");
    }
    if (p.pad_top || p.pad_left || p.pad_bottom || p.pad_right) {
      unsupported(l, "max pooling with padding is not supported");
    }
  }

  std::size_t add_op(LinearOp op, FloatLinearParams params) {
    plan_.structure.linear_ops.push_back(std::move(op));
    plan_.params.push_back(std::move(params));
    return plan_.structure.linear_ops.size() - 1;
  }

  void lower_conv(const Layer& l, Value& out) {
    const Value& in = input_value(l);
    if (in.kind != Value::Kind::activation) {
      unsupported(l, "input must be the network input or a ReLU output, got " + describe(in.kind));
    }
    LinearOp op;
    op.kind = LinearOp::Kind::conv;
    op.conv = l.conv;
    op.input = in.act;
    op.name = l.name;
    if (!(plan_.structure.activation_shapes[in.act] ==
          Shape{1, l.conv.in_channels, l.conv.in_h, l.conv.in_w})) {
      unsupported(l, "input shape does not match the activation it reads");
    }
    FloatLinearParams p;
    p.weight = l.weight.values();
    p.bias = l.bias.empty() ? std::vector<float>(l.conv.out_channels, 0.0f) : l.bias;
    out.kind = Value::Kind::sum;
    out.shape = op.output_shape();
    out.ops = {add_op(std::move(op), std::move(p))};
  }

  void lower_linear(const Layer& l, Value& out) {
    const Value& in = input_value(l);
    LinearOp op;
    op.kind = LinearOp::Kind::fc;
    op.name = l.name;
    op.out_features = l.out_features;
    FloatLinearParams p;
    p.bias = l.bias.empty() ? std::vector<float>(l.out_features, 0.0f) : l.bias;
    if (in.kind == Value::Kind::activation) {
      op.input = in.act;
      op.in_features = plan_.structure.activation_shapes[in.act].numel();
      if (op.in_features != l.in_features) unsupported(l, "input size mismatch");
      p.weight = l.weight.values();
    } else if (in.kind == Value::Kind::avg_pending) {
      // Average pool folded into this layer: W'[o][c][h][w] = sum over the windows that contain
      // (h, w) of W[o][c][ph][pw] / (k_h k_w). Exact in float; one linear map instead of two.
      const Shape& a = plan_.structure.activation_shapes[in.act];
      const std::size_t c_n = a[1], h_n = a[2], w_n = a[3];
      const PoolSpec& pool = in.pool;
      const std::size_t ph_n = (h_n - pool.kernel_h) / pool.stride_h + 1;
      const std::size_t pw_n = (w_n - pool.kernel_w) / pool.stride_w + 1;
      if (c_n * ph_n * pw_n != l.in_features) unsupported(l, "pooled input size mismatch");
      op.input = in.act;
      op.in_features = a.numel();
      p.weight.assign(l.out_features * op.in_features, 0.0f);
      const float inv = 1.0f / static_cast<float>(pool.kernel_h * pool.kernel_w);
      for (std::size_t o = 0; o < l.out_features; ++o) {
        for (std::size_t c = 0; c < c_n; ++c) {
          for (std::size_t ph = 0; ph < ph_n; ++ph) {
            for (std::size_t pw = 0; pw < pw_n; ++pw) {
              const float v = l.weight[o * l.in_features + (c * ph_n + ph) * pw_n + pw] * inv;
              for (std::size_t i = 0; i < pool.kernel_h; ++i) {
                for (std::size_t j = 0; j < pool.kernel_w; ++j) {
                  const std::size_t h = ph * pool.stride_h + i, w = pw * pool.stride_w + j;
                  p.weight[o * op.in_features + (c * h_n + h) * w_n + w] += v;
                }
              }
            }
          }
        }
      }
    } else {
      unsupported(
          l, "input must be a ReLU output or an average pool of one, got " + describe(in.kind));
    }
    out.kind = Value::Kind::sum;
    out.shape = op.output_shape();
    out.ops = {add_op(std::move(op), std::move(p))};
  }

  void lower_layer(std::size_t i) {
    const Layer& l = m_.layers()[i];
    Value& out = vals_[i];
    switch (l.kind) {
      case LayerKind::input:
        break;
      case LayerKind::conv:
        lower_conv(l, out);
        break;
      case LayerKind::linear:
        lower_linear(l, out);
        break;
      case LayerKind::batch_norm:
        unsupported(l, "BatchNorm must directly follow a Conv or Linear layer that only it reads");
      case LayerKind::relu: {
        const Value& in = input_value(l);
        if (in.kind == Value::Kind::sum) {
          out.kind = Value::Kind::activation;
          out.act = new_stage(in, NonLinear{NonLinear::Kind::relu});
          out.producer = i;
        } else if (in.kind == Value::Kind::pooled_sum) {
          out.kind = Value::Kind::activation;
          out.act = new_stage(
              in, NonLinear{NonLinear::Kind::relu_maxpool, in.pool.kernel_h, in.pool.stride_h});
          out.producer = i;
        } else if (in.kind == Value::Kind::activation && in.act > 0) {
          out = in;  // every stage output is already >= 0: ReLU is the identity
        } else {
          unsupported(l, "ReLU of " + describe(in.kind) + " (the network input?)");
        }
        break;
      }
      case LayerKind::max_pool: {
        check_square_pool(l);
        const Value& in = input_value(l);
        if (in.kind == Value::Kind::sum) {
          out = in;
          out.kind = Value::Kind::pooled_sum;
          out.pool = l.pool;
          break;
        }
        LoweredModel& s = plan_.structure;
        const bool foldable = in.kind == Value::Kind::activation && in.act > 0 &&
                              in.act == s.stages.size() &&
                              s.stages.back().nonlinear.kind == NonLinear::Kind::relu &&
                              in.producer == l.inputs[0] && readers_[l.inputs[0]] == 1;
        if (!foldable) {
          unsupported(l, "MaxPool must directly follow a ReLU whose output only it reads");
        }
        // ReLU then max pool is one garbled-circuit stage: max(ReLU(.)) == ReLU(max(.)).
        Stage& st = s.stages.back();
        st.nonlinear = NonLinear{NonLinear::Kind::relu_maxpool, l.pool.kernel_h, l.pool.stride_h};
        s.activation_shapes[in.act] = stage_output_shape(st);
        out = in;
        break;
      }
      case LayerKind::avg_pool:
      case LayerKind::global_avg_pool: {
        const Value& in = input_value(l);
        if (in.kind != Value::Kind::activation) {
          unsupported(l, "average pool input must be a ReLU output, got " + describe(in.kind));
        }
        out.kind = Value::Kind::avg_pending;
        out.act = in.act;
        if (l.kind == LayerKind::avg_pool) {
          out.pool = l.pool;
        } else {
          const Shape& a = plan_.structure.activation_shapes[in.act];
          out.pool = PoolSpec{a[2], a[3], a[2], a[3]};
        }
        break;
      }
      case LayerKind::add: {
        out.kind = Value::Kind::sum;
        for (std::size_t k = 0; k < 2; ++k) {
          const Value& in = input_value(l, k);
          if (in.kind == Value::Kind::sum) {
            out.ops.insert(out.ops.end(), in.ops.begin(), in.ops.end());
            out.ids.insert(out.ids.end(), in.ids.begin(), in.ids.end());
            if (out.shape.rank() == 0) out.shape = in.shape;
          } else if (in.kind == Value::Kind::activation) {
            out.ids.push_back(in.act);
          } else {
            unsupported(l, "cannot add " + describe(in.kind));
          }
        }
        if (out.shape.rank() == 0) out.shape = plan_.structure.activation_shapes[out.ids[0]];
        for (std::size_t a : out.ids) {
          if (plan_.structure.activation_shapes[a].numel() != out.shape.numel()) {
            unsupported(l, "operand shapes differ");
          }
        }
        break;
      }
      case LayerKind::flatten:
        out = input_value(l);
        break;  // layouts are NCHW: free
    }
  }

  const Model& m_;
  std::vector<std::size_t> readers_;
  std::vector<Value> vals_;
  LoweredPlan plan_;
};

}  // namespace

LoweredPlan plan_lowering(const Model& model) {
  const Model folded = fold_batch_norm(model);
  return Lowerer(folded).run();
}

}  // namespace pinfer::nn
