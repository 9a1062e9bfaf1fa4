#include "pinfer/nn/lowered_model.hpp"

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
  out_h = conv_out(in_h, pad_top, pad_bottom, kernel_h, stride_h, "h");
  out_w = conv_out(in_w, pad_left, pad_right, kernel_w, stride_w, "w");
}

Shape LinearOp::output_shape() const {
  if (kind == Kind::conv) return Shape{1, conv.out_channels, conv.out_h, conv.out_w};
  return Shape{1, out_features};
}

Shape stage_output_shape(const Stage& stage) {
  if (stage.nonlinear.kind != NonLinear::Kind::relu_maxpool) return stage.pre_shape;
  const auto& d = stage.pre_shape.dims();
  const std::size_t k = stage.nonlinear.pool_kernel, s = stage.nonlinear.pool_stride;
  if (d.size() != 4 || k == 0 || s == 0 || d[2] < k || d[3] < k) {
    throw InvalidArgument("max pool " + std::to_string(k) + "/" + std::to_string(s) +
                          " does not fit stage shape " + stage.pre_shape.to_string());
  }
  return Shape{d[0], d[1], (d[2] - k) / s + 1, (d[3] - k) / s + 1};
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
        if (!(op.weight.shape() == Shape{g.out_channels, g.in_channels, g.kernel_h, g.kernel_w}) ||
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
    if (!(stage_output_shape(st) == m.activation_shapes[s + 1])) {
      fail(s, "output shape " + stage_output_shape(st).to_string() + " != activation shape " +
                  m.activation_shapes[s + 1].to_string());
    }
  }
}

LoweredCounts count(const LoweredModel& m) {
  LoweredCounts c;
  for (const LinearOp& op : m.linear_ops) {
    c.macs += op.macs();
    c.params += op.weight.size() + op.bias.size();
  }
  for (const Stage& st : m.stages) {
    if (st.nonlinear.kind == NonLinear::Kind::none) continue;
    c.relus += st.pre_shape.numel();
    if (st.nonlinear.kind == NonLinear::Kind::relu_maxpool) {
      const std::size_t k = st.nonlinear.pool_kernel;
      c.comparisons += stage_output_shape(st).numel() * (k * k - 1);
    }
  }
  return c;
}

}  // namespace pinfer::nn
