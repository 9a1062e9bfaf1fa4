#include "pinfer/nn/lowered_model.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::nn {

namespace {

std::size_t conv_out(std::size_t in, std::size_t pad_a, std::size_t pad_b, std::size_t kernel,
                     std::size_t stride, const char* axis) {
  if (stride == 0) throw InvalidArgument(std::string("convolution stride_") + axis + " is 0");
  if (kernel == 0 || in + pad_a + pad_b < kernel) {
    throw InvalidArgument(std::string("convolution kernel_") + axis + " " + std::to_string(kernel) +
                          " does not fit the padded input " + std::to_string(in + pad_a + pad_b));
  }
  return (in + pad_a + pad_b - kernel) / stride + 1;
}

[[noreturn]] void fail(std::size_t stage, const std::string& what) {
  throw InvalidArgument("lowered model stage " + std::to_string(stage) + ": " + what);
}

}  // namespace

void ConvGeometry::infer_output_size() {
  if (groups == 0 || in_channels % groups != 0 || out_channels % groups != 0) {
    throw InvalidArgument("convolution groups " + std::to_string(groups) +
                          " do not divide the channels " + std::to_string(in_channels) + " -> " +
                          std::to_string(out_channels));
  }
  out_h = conv_out(in_h, pad_top, pad_bottom, kernel_h, stride_h, "h");
  out_w = conv_out(in_w, pad_left, pad_right, kernel_w, stride_w, "w");
}

ConvGeometry ConvGeometry::group_geometry() const noexcept {
  ConvGeometry g = *this;
  g.in_channels = group_in_channels();
  g.out_channels = group_out_channels();
  g.groups = 1;
  return g;
}

namespace {

std::size_t pool_out(std::size_t in, std::size_t pad_a, std::size_t pad_b, std::size_t k,
                     std::size_t s, bool ceil_mode, const char* axis) {
  if (k == 0 || s == 0) {
    throw InvalidArgument(std::string("pool kernel_") + axis + " and stride_" + axis +
                          " must be positive");
  }
  if (pad_a >= k || pad_b >= k) {
    throw InvalidArgument(std::string("pool pads along ") + axis + " (" + std::to_string(pad_a) +
                          ", " + std::to_string(pad_b) + ") must be smaller than the kernel " +
                          std::to_string(k));
  }
  if (in + pad_a + pad_b < k) {
    throw InvalidArgument(std::string("pool kernel_") + axis + " " + std::to_string(k) +
                          " exceeds the padded input " + std::to_string(in + pad_a + pad_b));
  }
  const std::size_t span = in + pad_a + pad_b - k;
  std::size_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  // PyTorch: the last window must start inside the input or the leading padding.
  if (ceil_mode && (out - 1) * s >= in + pad_a) --out;
  return out;
}

}  // namespace

std::size_t PoolSpec::out_h(std::size_t in_h) const {
  return pool_out(in_h, pad_top, pad_bottom, kernel_h, stride_h, ceil_mode, "h");
}
std::size_t PoolSpec::out_w(std::size_t in_w) const {
  return pool_out(in_w, pad_left, pad_right, kernel_w, stride_w, ceil_mode, "w");
}

PoolSpec::Window PoolSpec::window(std::size_t oh, std::size_t ow, std::size_t in_h,
                                  std::size_t in_w) const noexcept {
  // Signed window bounds in input coordinates; the padded input is [-pad_a, in + pad_b).
  const auto axis = [](std::size_t o, std::size_t s, std::size_t pad_a, std::size_t pad_b,
                       std::size_t k, std::size_t in, std::size_t& lo, std::size_t& hi) {
    const long start = static_cast<long>(o * s) - static_cast<long>(pad_a);
    const long end_padded = std::min(start + static_cast<long>(k), static_cast<long>(in + pad_b));
    const std::size_t padded = static_cast<std::size_t>(end_padded - start);
    lo = static_cast<std::size_t>(std::max(start, 0L));
    hi = static_cast<std::size_t>(std::min(start + static_cast<long>(k), static_cast<long>(in)));
    return padded;
  };
  Window w;
  const std::size_t ph = axis(oh, stride_h, pad_top, pad_bottom, kernel_h, in_h, w.h0, w.h1);
  const std::size_t pw = axis(ow, stride_w, pad_left, pad_right, kernel_w, in_w, w.w0, w.w1);
  w.divisor = count_include_pad ? ph * pw : (w.h1 - w.h0) * (w.w1 - w.w0);
  return w;
}

std::vector<uint32_t> max_pool_gather(const Shape& input, const PoolSpec& pool) {
  const auto& d = input.dims();
  if (d.size() != 4) throw InvalidArgument("max pool input " + input.to_string() + " is not 4-D");
  const std::size_t c_n = d[1], h_n = d[2], w_n = d[3];
  const std::size_t oh_n = pool.out_h(h_n), ow_n = pool.out_w(w_n);
  if (input.numel() > UINT32_MAX) throw InvalidArgument("max pool input too large");
  std::vector<uint32_t> g;
  g.reserve(c_n * oh_n * ow_n * pool.kernel_h * pool.kernel_w);
  for (std::size_t c = 0; c < c_n; ++c) {
    for (std::size_t oh = 0; oh < oh_n; ++oh) {
      for (std::size_t ow = 0; ow < ow_n; ++ow) {
        const PoolSpec::Window win = pool.window(oh, ow, h_n, w_n);
        PINFER_ASSERT(win.h0 < win.h1 && win.w0 < win.w1);
        const auto index = [&](std::size_t h, std::size_t w) {
          return static_cast<uint32_t>((c * h_n + h) * w_n + w);
        };
        for (std::size_t i = 0; i < pool.kernel_h; ++i) {
          for (std::size_t j = 0; j < pool.kernel_w; ++j) {
            const long h =
                static_cast<long>(oh * pool.stride_h + i) - static_cast<long>(pool.pad_top);
            const long w =
                static_cast<long>(ow * pool.stride_w + j) - static_cast<long>(pool.pad_left);
            const bool inside = h >= static_cast<long>(win.h0) && h < static_cast<long>(win.h1) &&
                                w >= static_cast<long>(win.w0) && w < static_cast<long>(win.w1);
            g.push_back(inside ? index(static_cast<std::size_t>(h), static_cast<std::size_t>(w))
                               : index(win.h0, win.w0));
          }
        }
      }
    }
  }
  return g;
}

Shape LinearOp::output_shape() const {
  if (kind == Kind::conv) return Shape{1, conv.out_channels, conv.out_h, conv.out_w};
  return Shape{1, out_features};
}

Shape stage_output_shape(const Stage& stage) {
  if (stage.nonlinear.kind == NonLinear::Kind::argmax) return Shape{1, 1};
  if (stage.nonlinear.kind == NonLinear::Kind::topk) return Shape{1, stage.nonlinear.top_k};
  if (stage.nonlinear.kind != NonLinear::Kind::relu_maxpool) return stage.pre_shape;
  const auto& d = stage.pre_shape.dims();
  const PoolSpec& p = stage.nonlinear.pool;
  if (d.size() != 4) {
    throw InvalidArgument("max pool does not fit stage shape " + stage.pre_shape.to_string());
  }
  return Shape{d[0], d[1], p.out_h(d[2]), p.out_w(d[3])};
}

void validate(const LoweredModel& m) {
  if (m.l < 2 || m.l > 64 || m.f == 0 || 2 * m.f >= m.l) {
    throw InvalidArgument("lowered model l=" + std::to_string(m.l) + " f=" + std::to_string(m.f) +
                          " is invalid (need 2 <= l <= 64, 0 < 2f < l)");
  }
  if (m.input_shape.rank() != 4 || m.input_shape[0] != 1) {
    throw InvalidArgument("lowered model input shape " + m.input_shape.to_string() +
                          " is not 1xCxHxW");
  }
  if (m.stages.empty()) throw InvalidArgument("lowered model has no stages");
  if (m.activation_shapes.size() != m.stages.size() + 1 ||
      !(m.activation_shapes[0] == m.input_shape)) {
    throw InvalidArgument("lowered model has " + std::to_string(m.activation_shapes.size()) +
                          " activation shapes for " + std::to_string(m.stages.size()) + " stages");
  }
  (void)Ring(m.l);  // rejects an l outside 1..64
  std::vector<bool> op_used(m.linear_ops.size(), false);
  for (std::size_t s = 0; s < m.stages.size(); ++s) {
    const Stage& st = m.stages[s];
    const bool last = s + 1 == m.stages.size();
    if (st.output != s + 1)
      fail(s, "output activation " + std::to_string(st.output) + " != " + std::to_string(s + 1));
    if ((st.nonlinear.kind == NonLinear::Kind::none) != last) {
      fail(s, "only the last stage has no non-linear step");
    }
    if (st.linear_ops.empty() && st.identity_inputs.empty()) fail(s, "sums nothing");
    for (std::size_t i : st.linear_ops) {
      if (i >= m.linear_ops.size())
        fail(s, "linear op index " + std::to_string(i) + " out of range");
      if (op_used[i]) fail(s, "linear op " + std::to_string(i) + " used twice");
      op_used[i] = true;
      const LinearOp& op = m.linear_ops[i];
      if (op.input > s) fail(s, "op " + std::to_string(i) + " reads a later activation");
      const Shape& in = m.activation_shapes[op.input];
      if (op.kind == LinearOp::Kind::conv) {
        const ConvGeometry& g = op.conv;
        ConvGeometry check = g;
        check.infer_output_size();
        if (!(in == Shape{1, g.in_channels, g.in_h, g.in_w}) || check.out_h != g.out_h ||
            check.out_w != g.out_w) {
          fail(s,
               "conv op " + std::to_string(i) + " geometry does not match input " + in.to_string());
        }
        if (!(op.weight.shape() ==
              Shape{g.out_channels, g.group_in_channels(), g.kernel_h, g.kernel_w}) ||
            op.bias.size() != g.out_channels) {
          fail(s, "conv op " + std::to_string(i) + " weight/bias shape mismatch");
        }
      } else {
        if (op.in_features != in.numel() ||
            !(op.weight.shape() == Shape{op.out_features, op.in_features}) ||
            op.bias.size() != op.out_features) {
          fail(s, "fc op " + std::to_string(i) + " shape mismatch with input " + in.to_string());
        }
      }
      if (!(op.output_shape() == st.pre_shape)) {
        fail(s, "op " + std::to_string(i) + " output " + op.output_shape().to_string() +
                    " != stage shape " + st.pre_shape.to_string());
      }
      for (uint64_t v : op.weight.span()) {
        if (v > Ring(m.l).mask())
          fail(s, "op " + std::to_string(i) + " weight not reduced mod 2^l");
      }
    }
    for (std::size_t a : st.identity_inputs) {
      if (a > s) fail(s, "identity input " + std::to_string(a) + " is not computed yet");
      if (m.activation_shapes[a].numel() != st.pre_shape.numel()) {
        fail(s, "identity input shape " + m.activation_shapes[a].to_string() +
                    " != " + st.pre_shape.to_string());
      }
    }
    if (st.nonlinear.kind == NonLinear::Kind::argmax && s + 2 != m.stages.size()) {
      fail(s, "an argmax stage must come right before the output stage");
    }
    if (st.nonlinear.kind == NonLinear::Kind::topk &&
        (s + 2 != m.stages.size() || st.nonlinear.top_k < 1 ||
         st.nonlinear.top_k > st.pre_shape.numel())) {
      fail(s, "a topk stage must come right before the output stage and keep 1.." +
                  std::to_string(st.pre_shape.numel()) + " labels");
    }
    if (st.nonlinear.kind == NonLinear::Kind::clip && st.nonlinear.clip_lo > st.nonlinear.clip_hi) {
      fail(s, "clip bounds are reversed");
    }
    if (!(stage_output_shape(st) == m.activation_shapes[s + 1])) {
      fail(s, "output shape " + stage_output_shape(st).to_string() + " != activation shape " +
                  m.activation_shapes[s + 1].to_string());
    }
  }
}

bool reveals_label(const LoweredModel& m) noexcept {
  return m.stages.size() >= 2 &&
         m.stages[m.stages.size() - 2].nonlinear.kind == NonLinear::Kind::argmax;
}

namespace {

// Turns the logits stage into `kind` (k labels) and appends a last stage that outputs them.
LoweredModel append_label_stage(const LoweredModel& model, NonLinear::Kind kind, std::size_t k) {
  if (revealed_labels(model) != 0)
    throw InvalidArgument("model " + model.name + " already reveals " + reveals(model));
  const std::size_t classes = model.stages.back().pre_shape.numel();
  if (k < 1 || k > classes) {
    throw InvalidArgument("cannot reveal the top " + std::to_string(k) + " of " +
                          std::to_string(classes) + " classes");
  }
  LoweredModel m = model;
  Stage& logits = m.stages.back();
  logits.nonlinear = NonLinear::of(kind);
  if (kind == NonLinear::Kind::topk) logits.nonlinear.top_k = k;
  m.activation_shapes.back() = Shape{1, k};
  Stage out;
  out.identity_inputs = {logits.output};
  out.pre_shape = Shape{1, k};
  out.nonlinear = NonLinear::of(NonLinear::Kind::none);
  out.output = logits.output + 1;
  m.stages.push_back(std::move(out));
  m.activation_shapes.push_back(Shape{1, k});
  return m;
}

}  // namespace

LoweredModel reveal_label(const LoweredModel& model) {
  return append_label_stage(model, NonLinear::Kind::argmax, 1);
}

LoweredModel reveal_top_k(const LoweredModel& model, std::size_t k) {
  if (k == 1) return reveal_label(model);
  return append_label_stage(model, NonLinear::Kind::topk, k);
}

std::size_t revealed_labels(const LoweredModel& m) noexcept {
  if (m.stages.size() < 2) return 0;
  const NonLinear& nl = m.stages[m.stages.size() - 2].nonlinear;
  if (nl.kind == NonLinear::Kind::argmax) return 1;
  if (nl.kind == NonLinear::Kind::topk) return nl.top_k;
  return 0;
}

std::string reveals(const LoweredModel& m) {
  const std::size_t k = revealed_labels(m);
  if (k == 0) return "logits";
  if (reveals_label(m)) return "label";
  return "topk:" + std::to_string(k);
}

std::optional<std::size_t> parse_reveal(std::string_view v) noexcept {
  if (v == "logits") return 0;
  if (v == "label") return 1;
  constexpr std::string_view prefix = "topk:";
  if (!v.starts_with(prefix)) return std::nullopt;
  std::size_t k = 0;
  const char* first = v.data() + prefix.size();
  const char* last = v.data() + v.size();
  const auto [end, ec] = std::from_chars(first, last, k);
  if (ec != std::errc() || end != last || first == last || k == 0 || k > 65536) {
    return std::nullopt;
  }
  return k;
}

LoweredModel apply_reveal(const LoweredModel& model, std::string_view reveal) {
  const std::optional<std::size_t> k = parse_reveal(reveal);
  if (!k) {
    throw InvalidArgument("reveal " + std::string(reveal) +
                          ": expected label, topk:K (K >= 1) or logits");
  }
  if (*k == 0) return model;
  return reveal_top_k(model, *k);
}

std::vector<std::size_t> top_k_classes(const Ring& ring, std::span<const uint64_t> logits,
                                       std::size_t k) {
  PINFER_ASSERT(k <= logits.size());
  std::vector<std::size_t> order(logits.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Stable: equal logits keep the lower index first, as the top-k circuit ranks them.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return ring.to_signed(logits[a]) > ring.to_signed(logits[b]);
  });
  order.resize(k);
  return order;
}

LoweredCounts count(const LoweredModel& m) {
  LoweredCounts c;
  for (const LinearOp& op : m.linear_ops) {
    c.macs += op.macs();
    c.params += op.weight.size() + op.bias.size();
  }
  for (const Stage& st : m.stages) {
    if (st.nonlinear.kind == NonLinear::Kind::none ||
        st.nonlinear.kind == NonLinear::Kind::argmax ||
        st.nonlinear.kind == NonLinear::Kind::topk) {
      continue;
    }
    c.relus += st.pre_shape.numel();
    if (st.nonlinear.kind == NonLinear::Kind::relu_maxpool) {
      const PoolSpec& p = st.nonlinear.pool;
      c.comparisons += stage_output_shape(st).numel() * (p.kernel_h * p.kernel_w - 1);
    }
  }
  return c;
}

}  // namespace pinfer::nn
