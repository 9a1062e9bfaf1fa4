// plan_lowering: IR -> the lowered structure with float parameters (see quantizer.hpp).
#include <cmath>
#include <limits>
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
    avg_pending,  // average pool of an activation: folded into a Linear that reads it (via
                  // Flatten), otherwise a depthwise convolution (avg_as_linear)
    concat,       // a channel concatenation of `parts` (shares concatenate: nothing computed)
  };
  Kind kind = Kind::none;
  std::size_t act = 0;                // activation, avg_pending
  bool nonneg = false;                // activation: every element is >= 0 (a ReLU output)
  std::size_t producer = 0;           // activation: the layer whose stage produced it;
                                      // avg_pending: the pooling layer
  std::vector<std::size_t> ops, ids;  // sum, pooled_sum
  Shape shape;                        // sum: the stage pre-shape; concat: the whole shape
  PoolSpec pool;                      // pooled_sum, avg_pending
  std::vector<Value> parts;           // concat: activations, sums or average pools, in order
  bool shared = false;                // a part of a concatenation something else also reads
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
    case Value::Kind::concat:
      return "a concatenation";
  }
  return "?";
}

NonLinear clip_nonlinear(double lo, double hi) {
  NonLinear n;
  n.kind = NonLinear::Kind::clip;
  n.clip_min = lo;
  n.clip_max = hi;
  return n;
}

// The stage that only truncates (and re-shares) a linear output so another linear layer can read
// it: a clip without bounds.
NonLinear rescale_nonlinear() {
  return clip_nonlinear(-std::numeric_limits<double>::infinity(),
                        std::numeric_limits<double>::infinity());
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
      if (readers_[i] > 1 && i != m_.output()) share(layers[i], vals_[i]);
    }
    const Layer& out = layers[m_.output()];
    const Value v = linear_if_pooled(vals_[m_.output()]);
    if (v.kind != Value::Kind::sum) {
      unsupported(out, "the network output must be a Conv / Linear layer (the logits), got " +
                           describe(v.kind));
    }
    new_stage(v, NonLinear::of(NonLinear::Kind::none));
    return std::move(plan_);
  }

 private:
  [[noreturn]] static void unsupported(const Layer& l, const std::string& why) {
    throw Unsupported("layer " + l.name + " (" + std::string(to_string(l.kind)) + "): " + why);
  }

  const Value& input_value(const Layer& l, std::size_t k = 0) const { return vals_[l.inputs[k]]; }
  const Shape& act_shape(std::size_t a) const { return plan_.structure.activation_shapes[a]; }

  // A value read by several layers must be materialised: linear outputs go through a rescale
  // stage (so each reader gets the same activation), concatenations part by part.
  void share(const Layer& l, Value& v) {
    if (v.kind == Value::Kind::sum || v.kind == Value::Kind::avg_pending) {
      v = materialize(l, v);
    } else if (v.kind == Value::Kind::concat) {
      for (Value& p : v.parts) {
        if (p.kind == Value::Kind::sum || p.kind == Value::Kind::avg_pending) {
          p = materialize(l, p);
        }
        if (p.kind != Value::Kind::activation) share_error(l, p.kind);
      }
    } else if (v.kind != Value::Kind::activation) {
      share_error(l, v.kind);
    }
  }
  [[noreturn]] void share_error(const Layer& l, Value::Kind k) const {
    unsupported(l, "its output (" + describe(k) + ") is read by " +
                       std::to_string(readers_[&l - m_.layers().data()]) +
                       " layers; only activations and linear outputs may be shared");
  }

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

  Value stage_value(const Value& sum, NonLinear nl, std::size_t producer) {
    Value out;
    out.kind = Value::Kind::activation;
    out.nonneg = nl.kind == NonLinear::Kind::relu || nl.kind == NonLinear::Kind::relu_maxpool ||
                 (nl.kind == NonLinear::Kind::clip && nl.clip_min >= 0);
    out.act = new_stage(sum, nl);
    out.producer = producer;
    return out;
  }

  // A stage reading activation `a` alone (y = a * 2^f), for a non-linear step on an activation.
  Value identity_sum(const Value& a) const {
    Value s;
    s.kind = Value::Kind::sum;
    s.ids = {a.act};
    s.shape = act_shape(a.act);
    return s;
  }

  // Turns a value into an activation a linear layer can read.
  Value materialize(const Layer& l, const Value& v_in) {
    const Value v = linear_if_pooled(v_in);
    if (v.kind == Value::Kind::activation) return v;
    if (v.kind == Value::Kind::sum) {
      return stage_value(v, rescale_nonlinear(), static_cast<std::size_t>(&l - m_.layers().data()));
    }
    unsupported(l, "input must be an activation or a linear output, got " + describe(v.kind));
  }

  std::size_t add_op(LinearOp op, FloatLinearParams params) {
    plan_.structure.linear_ops.push_back(std::move(op));
    plan_.params.push_back(std::move(params));
    return plan_.structure.linear_ops.size() - 1;
  }

  // An average pool that no Linear layer absorbs (DenseNet's transition, read by the next dense
  // block; SqueezeNet's head, the network output) is a linear layer of its own: a depthwise
  // convolution with the pool's window, stride and padding and every weight 1 / divisor. Zero
  // padding is right only when every window has the same divisor k_h k_w (no padding, or
  // count_include_pad, and no partial ceil_mode window); other pools must be read by a Linear.
  Value avg_as_linear(const Value& v) {
    const Layer& pool_layer = m_.layers()[v.producer];
    const Shape& a = act_shape(v.act);
    const PoolSpec& pool = v.pool;
    ConvGeometry g;
    g.in_channels = g.out_channels = g.groups = a[1];
    g.in_h = a[2];
    g.in_w = a[3];
    g.kernel_h = pool.kernel_h;
    g.kernel_w = pool.kernel_w;
    g.stride_h = pool.stride_h;
    g.stride_w = pool.stride_w;
    g.pad_top = pool.pad_top;
    g.pad_left = pool.pad_left;
    g.pad_bottom = pool.pad_bottom;
    g.pad_right = pool.pad_right;
    g.infer_output_size();
    const std::size_t oh = pool.out_h(a[2]), ow = pool.out_w(a[3]);
    const std::size_t kk = pool.kernel_h * pool.kernel_w;
    bool uniform = g.out_h == oh && g.out_w == ow;
    for (std::size_t h = 0; uniform && h < oh; ++h) {
      for (std::size_t w = 0; uniform && w < ow; ++w) {
        uniform = pool.window(h, w, a[2], a[3]).divisor == kk;
      }
    }
    if (!uniform) {
      unsupported(pool_layer,
                  "an average pool whose windows have different divisors (padding without "
                  "count_include_pad, or a partial ceil_mode window) must be read by a Linear "
                  "layer (it is folded into it)");
    }
    LinearOp op;
    op.kind = LinearOp::Kind::conv;
    op.name = pool_layer.name;
    op.input = v.act;
    op.conv = g;
    FloatLinearParams p;
    p.weight.assign(a[1] * kk, static_cast<float>(1.0 / static_cast<double>(kk)));
    p.bias.assign(a[1], 0.0f);
    Value out;
    out.kind = Value::Kind::sum;
    out.shape = Shape{1, a[1], oh, ow};
    out.ops = {add_op(std::move(op), std::move(p))};
    return out;
  }
  Value linear_if_pooled(const Value& v) {
    return v.kind == Value::Kind::avg_pending ? avg_as_linear(v) : v;
  }

  static std::size_t channels_of(const Shape& s) { return s.rank() >= 2 ? s[1] : 0; }
  std::size_t numel_of(const Value& v) const {
    switch (v.kind) {
      case Value::Kind::activation:
        return act_shape(v.act).numel();
      case Value::Kind::avg_pending: {
        const Shape& a = act_shape(v.act);
        return a[1] * v.pool.out_h(a[2]) * v.pool.out_w(a[3]);
      }
      default:
        return v.shape.numel();
    }
  }
  std::size_t part_channels(const Value& v) const {
    return v.kind == Value::Kind::activation || v.kind == Value::Kind::avg_pending
               ? channels_of(act_shape(v.act))
               : channels_of(v.shape);
  }

  // A conv reading a concatenation is the sum of convs over its parts (input channels split).
  void lower_conv(const Layer& l, Value& out) {
    const Value& in = input_value(l);
    std::vector<Value> parts = in.kind == Value::Kind::concat ? in.parts : std::vector<Value>{in};
    if (parts.size() > 1 && l.conv.groups != 1) {
      unsupported(l, "a grouped convolution of a concatenation is not supported");
    }
    out.kind = Value::Kind::sum;
    out.shape = Shape{1, l.conv.out_channels, l.conv.out_h, l.conv.out_w};
    const std::size_t ci = l.conv.group_in_channels(), kk = l.conv.kernel_h * l.conv.kernel_w;
    std::size_t c0 = 0;
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const Value a = materialize(l, parts[k]);
      const Shape& s = act_shape(a.act);
      const std::size_t pc = parts.size() == 1 ? l.conv.in_channels : s[1];
      LinearOp op;
      op.kind = LinearOp::Kind::conv;
      op.conv = l.conv;
      op.conv.in_channels = pc;
      op.input = a.act;
      op.name = parts.size() == 1 ? l.name : l.name + "[" + std::to_string(k) + "]";
      if (!(s == Shape{1, pc, l.conv.in_h, l.conv.in_w})) {
        unsupported(l, "input shape does not match the activation it reads");
      }
      FloatLinearParams p;
      if (parts.size() == 1) {
        p.weight = l.weight.values();
      } else {
        p.weight.resize(l.conv.out_channels * pc * kk);
        for (std::size_t o = 0; o < l.conv.out_channels; ++o) {
          for (std::size_t c = 0; c < pc; ++c) {
            for (std::size_t j = 0; j < kk; ++j) {
              p.weight[(o * pc + c) * kk + j] = l.weight[(o * ci + c0 + c) * kk + j];
            }
          }
        }
      }
      p.bias = (k == 0 && !l.bias.empty()) ? l.bias : std::vector<float>(l.conv.out_channels, 0.0f);
      out.ops.push_back(add_op(std::move(op), std::move(p)));
      c0 += pc;
    }
  }

  // Columns [col0, col0 + numel_of(part)) of a Linear layer's weight as one fc op over `part`.
  void linear_part(const Layer& l, const Value& part_in, std::size_t col0, bool with_bias,
                   std::size_t index, std::size_t n_parts, Value& out) {
    const Value part = part_in.kind == Value::Kind::sum ? materialize(l, part_in) : part_in;
    LinearOp op;
    op.kind = LinearOp::Kind::fc;
    op.name = n_parts == 1 ? l.name : l.name + "[" + std::to_string(index) + "]";
    op.out_features = l.out_features;
    op.input = part.act;
    op.in_features = act_shape(part.act).numel();
    FloatLinearParams p;
    p.bias = with_bias && !l.bias.empty() ? l.bias : std::vector<float>(l.out_features, 0.0f);
    p.weight.assign(l.out_features * op.in_features, 0.0f);
    if (part.kind == Value::Kind::activation) {
      for (std::size_t o = 0; o < l.out_features; ++o) {
        for (std::size_t i = 0; i < op.in_features; ++i) {
          p.weight[o * op.in_features + i] = l.weight[o * l.in_features + col0 + i];
        }
      }
    } else if (part.kind == Value::Kind::avg_pending) {
      // Average pool folded into this layer: W'[o][c][h][w] = sum over the windows that contain
      // (h, w) of W[o][c][ph][pw] / divisor(window). Exact in float; one linear map, not two.
      const Shape& a = act_shape(part.act);
      const std::size_t c_n = a[1], h_n = a[2], w_n = a[3];
      const PoolSpec& pool = part.pool;
      const std::size_t ph_n = pool.out_h(h_n), pw_n = pool.out_w(w_n);
      for (std::size_t o = 0; o < l.out_features; ++o) {
        for (std::size_t c = 0; c < c_n; ++c) {
          for (std::size_t ph = 0; ph < ph_n; ++ph) {
            for (std::size_t pw = 0; pw < pw_n; ++pw) {
              const PoolSpec::Window win = pool.window(ph, pw, h_n, w_n);
              const float v = l.weight[o * l.in_features + col0 + (c * ph_n + ph) * pw_n + pw] /
                              static_cast<float>(win.divisor);
              for (std::size_t h = win.h0; h < win.h1; ++h) {
                for (std::size_t w = win.w0; w < win.w1; ++w) {
                  p.weight[o * op.in_features + (c * h_n + h) * w_n + w] += v;
                }
              }
            }
          }
        }
      }
    } else {
      unsupported(l,
                  "input must be an activation, a linear output or an average pool of one, "
                  "got " +
                      describe(part.kind));
    }
    out.ops.push_back(add_op(std::move(op), std::move(p)));
  }

  void lower_linear(const Layer& l, Value& out) {
    const Value& in = input_value(l);
    const std::vector<Value> parts =
        in.kind == Value::Kind::concat ? in.parts : std::vector<Value>{in};
    std::size_t total = 0;
    for (const Value& p : parts) total += numel_of(p);
    if (total != l.in_features) unsupported(l, "input size mismatch");
    out.kind = Value::Kind::sum;
    out.shape = Shape{1, l.out_features};
    std::size_t col0 = 0;
    for (std::size_t k = 0; k < parts.size(); ++k) {
      linear_part(l, parts[k], col0, k == 0, k, parts.size(), out);
      col0 += numel_of(parts[k]);
    }
  }

  // A per-channel affine map s * x + t of activation `a` as a linear op: a depthwise 1x1
  // convolution (one group per channel) or, for a feature vector, a diagonal fc layer.
  std::size_t per_channel_op(const std::string& name, std::size_t a, const std::vector<float>& s,
                             const std::vector<float>& t) {
    const Shape& shape = act_shape(a);
    const std::size_t c = shape[1];
    LinearOp op;
    op.name = name;
    op.input = a;
    FloatLinearParams p;
    p.bias = t;
    if (shape.rank() == 4) {
      op.kind = LinearOp::Kind::conv;
      op.conv = ConvGeometry{c, shape[2], shape[3], c, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, c};
      op.conv.infer_output_size();
      p.weight = s;
    } else {
      op.kind = LinearOp::Kind::fc;
      op.in_features = op.out_features = c;
      p.weight.assign(c * c, 0.0f);
      for (std::size_t i = 0; i < c; ++i) p.weight[i * c + i] = s[i];
    }
    return add_op(std::move(op), std::move(p));
  }

  // BatchNorm y = s x + t per channel, s = gamma / sqrt(var + eps), t = beta - s mean, on a value
  // whose channels are [c0, c0 + channels).
  Value batch_norm_of(const Layer& l, const Value& in_v, std::size_t c0) {
    const std::size_t n = part_channels(in_v);
    const Value in = linear_if_pooled(in_v);
    std::vector<float> s(n), t(n);
    for (std::size_t c = 0; c < n; ++c) {
      const double sc = l.gamma[c0 + c] / std::sqrt(static_cast<double>(l.var[c0 + c]) + l.epsilon);
      s[c] = static_cast<float>(sc);
      t[c] = static_cast<float>(l.beta[c0 + c] - sc * l.mean[c0 + c]);
    }
    Value out;
    out.kind = Value::Kind::sum;
    if (in.kind == Value::Kind::activation) {
      out.shape = act_shape(in.act);
      out.ops = {per_channel_op(l.name, in.act, s, t)};
      return out;
    }
    if (in.kind != Value::Kind::sum) {
      unsupported(l, "BatchNorm of " + describe(in.kind) + " is not supported");
    }
    // Scale every linear op of the sum (it owns them: a shared sum was materialised), and turn
    // each identity shortcut into a per-channel op.
    out.shape = in.shape;
    for (std::size_t i : in.ops) {
      FloatLinearParams& p = plan_.params[i];
      const std::size_t per_out = p.weight.size() / n;
      for (std::size_t o = 0; o < n; ++o) {
        for (std::size_t k = 0; k < per_out; ++k) p.weight[o * per_out + k] *= s[o];
        p.bias[o] *= s[o];
      }
      out.ops.push_back(i);
    }
    const std::vector<float> zero(n, 0.0f);
    for (std::size_t a : in.ids) out.ops.push_back(per_channel_op(l.name, a, s, zero));
    FloatLinearParams& first = plan_.params[out.ops.front()];
    for (std::size_t c = 0; c < n; ++c) first.bias[c] += t[c];
    return out;
  }

  // ReLU (or clip) of one value: a new stage, or nothing for a ReLU of a ReLU output.
  Value relu_of(const Layer& l, std::size_t i, const Value& in_v) {
    const Value in = linear_if_pooled(in_v);
    switch (in.kind) {
      case Value::Kind::sum:
        return stage_value(in, NonLinear::of(NonLinear::Kind::relu), i);
      case Value::Kind::pooled_sum: {
        NonLinear nl;
        nl.kind = NonLinear::Kind::relu_maxpool;
        nl.pool = in.pool;
        return stage_value(in, nl, i);
      }
      case Value::Kind::activation:
        if (in.nonneg) return in;  // ReLU is the identity
        return stage_value(identity_sum(in), NonLinear::of(NonLinear::Kind::relu), i);
      default:
        unsupported(l, "ReLU of " + describe(in.kind) + " is not supported");
    }
  }

  Value clip_of(const Layer& l, std::size_t i, const Value& in_v) {
    const Value in = linear_if_pooled(in_v);
    const NonLinear nl = clip_nonlinear(l.clip_min, l.clip_max);
    switch (in.kind) {
      case Value::Kind::sum:
        return stage_value(in, nl, i);
      case Value::Kind::activation:
        if (in.nonneg && l.clip_min <= 0 && std::isinf(l.clip_max)) return in;
        return stage_value(identity_sum(in), nl, i);
      default:
        unsupported(l, "Clip of " + describe(in.kind) + " is not supported");
    }
  }

  // Max pool of one value. `exclusive`: nothing else reads the pooled tensor's producer.
  Value max_pool_of(const Layer& l, std::size_t i, const Value& in_v, bool exclusive) {
    const Value in = linear_if_pooled(in_v);
    if (in.kind == Value::Kind::sum) {
      Value out = in;
      out.kind = Value::Kind::pooled_sum;
      out.pool = l.pool;
      return out;
    }
    if (in.kind != Value::Kind::activation) {
      unsupported(l, "MaxPool of " + describe(in.kind) + " is not supported");
    }
    LoweredModel& s = plan_.structure;
    // The producing stage can take the pool if nothing else reads its output: the ReLU layer has
    // this one reader (possibly via the one concatenation this pool reads).
    const bool foldable = exclusive && !in.shared && in.act > 0 &&
                          s.stages[in.act - 1].nonlinear.kind == NonLinear::Kind::relu &&
                          readers_[in.producer] == 1;
    if (foldable) {
      // ReLU then max pool is one garbled-circuit stage: max(ReLU(.)) == ReLU(max(.)).
      Stage& st = s.stages[in.act - 1];
      st.nonlinear.kind = NonLinear::Kind::relu_maxpool;
      st.nonlinear.pool = l.pool;
      s.activation_shapes[in.act] = stage_output_shape(st);
      return in;
    }
    if (!in.nonneg) {
      unsupported(l, "MaxPool must follow a ReLU (its input may be negative)");
    }
    // A shared ReLU output: a stage of its own (ReLU is the identity on it).
    NonLinear nl;
    nl.kind = NonLinear::Kind::relu_maxpool;
    nl.pool = l.pool;
    return stage_value(identity_sum(in), nl, i);
  }

  Value avg_pool_of(const Layer& l, std::size_t i, const Value& in_v) {
    const Value in = in_v.kind == Value::Kind::activation ? in_v : materialize(l, in_v);
    if (in.kind != Value::Kind::activation) {
      unsupported(l, "average pool input must be an activation, got " + describe(in.kind));
    }
    Value out;
    out.kind = Value::Kind::avg_pending;
    out.act = in.act;
    out.producer = i;
    if (l.kind == LayerKind::avg_pool) {
      out.pool = l.pool;
    } else {
      const Shape& a = act_shape(in.act);
      out.pool = PoolSpec{a[2], a[3], a[2], a[3]};
    }
    return out;
  }

  // Applies `f` to each part of a concatenation (or to the value itself).
  template <typename F>
  Value each_part(const Value& in, F&& f) {
    if (in.kind != Value::Kind::concat) return f(in, std::size_t{0});
    Value out = in;
    std::size_t c0 = 0;
    for (Value& p : out.parts) {
      const std::size_t pc = part_channels(p);
      p = f(p, c0);
      c0 += pc;
    }
    return out;
  }

  void lower_layer(std::size_t i) {
    const Layer& l = m_.layers()[i];
    Value& out = vals_[i];
    const bool exclusive = !l.inputs.empty() && readers_[l.inputs[0]] == 1;
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
        out = each_part(input_value(l),
                        [&](const Value& v, std::size_t c0) { return batch_norm_of(l, v, c0); });
        break;
      case LayerKind::relu:
        out = each_part(input_value(l),
                        [&](const Value& v, std::size_t) { return relu_of(l, i, v); });
        break;
      case LayerKind::clip:
        out = each_part(input_value(l),
                        [&](const Value& v, std::size_t) { return clip_of(l, i, v); });
        break;
      case LayerKind::max_pool:
        out = each_part(input_value(l), [&](const Value& v, std::size_t) {
          return max_pool_of(l, i, v, exclusive);
        });
        break;
      case LayerKind::avg_pool:
      case LayerKind::global_avg_pool:
        out = each_part(input_value(l),
                        [&](const Value& v, std::size_t) { return avg_pool_of(l, i, v); });
        break;
      case LayerKind::add: {
        out.kind = Value::Kind::sum;
        for (std::size_t k = 0; k < 2; ++k) {
          const Value in = linear_if_pooled(input_value(l, k));
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
        if (out.shape.rank() == 0) out.shape = act_shape(out.ids[0]);
        for (std::size_t a : out.ids) {
          if (act_shape(a).numel() != out.shape.numel()) unsupported(l, "operand shapes differ");
        }
        break;
      }
      case LayerKind::concat: {
        out.kind = Value::Kind::concat;
        out.shape = l.shape;
        for (std::size_t in : l.inputs) {
          const Value& v = vals_[in];
          if (v.kind == Value::Kind::concat) {
            for (Value p : v.parts) {
              p.shared |= readers_[in] > 1;  // then no pool may fold into its stage
              out.parts.push_back(std::move(p));
            }
          } else if (v.kind == Value::Kind::activation || v.kind == Value::Kind::sum ||
                     v.kind == Value::Kind::avg_pending) {
            out.parts.push_back(v);
          } else {
            unsupported(l, "cannot concatenate " + describe(v.kind));
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
