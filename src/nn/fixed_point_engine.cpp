#include "pinfer/nn/fixed_point_engine.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "linear_dispatch.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::nn {

RingTensor encode_input(const LoweredModel& model, const FloatTensor& input) {
  if (input.size() != model.input_shape.numel()) {
    throw InvalidArgument("input has " + std::to_string(input.size()) + " values, model " +
                          model.name + " expects " + model.input_shape.to_string());
  }
  const FixedPoint fp(Ring(model.l), model.f);
  RingTensor out(model.input_shape);
  for (std::size_t i = 0; i < input.size(); ++i) out[i] = fp.encode(input[i]);
  return out;
}

namespace detail {

namespace {

// One (group of a) linear op: out += W x, then reduced mod 2^l by the caller.
void accumulate_linear(RingKernel k, const Ring& ring, const LinearOp& op, const ConvGeometry& g,
                       const uint64_t* x, const uint64_t* w, uint64_t* out, std::size_t in_n,
                       std::size_t out_n, std::size_t w_n) {
  const bool conv = op.kind == LinearOp::Kind::conv;
  if (ring.bits() <= 32) {
    // 2^l divides 2^32: 32-bit lanes wrap exactly, at twice the vector width.
    std::vector<uint32_t> x32(x, x + in_n);
    std::vector<uint32_t> w32(w, w + w_n);
    std::vector<uint32_t> o32(out, out + out_n);
    if (conv) {
      ring_conv_accumulate32(k, g, x32.data(), w32.data(), o32.data());
    } else {
      ring_fc_accumulate32(k, op.in_features, op.out_features, x32.data(), w32.data(), o32.data());
    }
    for (std::size_t i = 0; i < out_n; ++i) out[i] = o32[i];
    return;
  }
  if (conv) {
    ring_conv_accumulate(k, g, x, w, out);
  } else {
    ring_fc_accumulate(k, op.in_features, op.out_features, x, w, out);
  }
}

}  // namespace

RingTensor apply_linear_on(RingKernel k, const Ring& ring, const LinearOp& op, const RingTensor& x,
                           bool add_bias) {
  const bool conv = op.kind == LinearOp::Kind::conv;
  const std::size_t in_n =
      conv ? op.conv.in_channels * op.conv.in_h * op.conv.in_w : op.in_features;
  if (x.size() != in_n) {
    throw InvalidArgument(std::string(conv ? "conv " : "fc ") + op.name + " input has " +
                          std::to_string(x.size()) + " values, expected " + std::to_string(in_n));
  }
  RingTensor out(op.output_shape());
  const std::size_t per_channel = conv ? op.conv.out_h * op.conv.out_w : 1;
  if (add_bias) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = op.bias[i / per_channel];
  }
  // Grouped convolutions: each group on its own contiguous slices (NCHW input and output, OIHW
  // weights), never as a dense kernel.
  const std::size_t groups = conv ? op.conv.groups : 1;
  const ConvGeometry g = conv ? op.conv.group_geometry() : op.conv;
  const std::size_t x_step = in_n / groups, out_step = out.size() / groups,
                    w_step = op.weight.size() / groups;
  for (std::size_t j = 0; j < groups; ++j) {
    accumulate_linear(k, ring, op, g, x.data() + j * x_step, op.weight.data() + j * w_step,
                      out.data() + j * out_step, x_step, out_step, w_step);
  }
  for (uint64_t& v : out.span()) v = ring.reduce(v);
  return out;
}

}  // namespace detail

RingTensor apply_linear(const Ring& ring, const LinearOp& op, const RingTensor& x, bool add_bias) {
  return detail::apply_linear_on(detail::active_ring_kernel(), ring, op, x, add_bias);
}

RingTensor stage_preactivation(const LoweredModel& model, const Stage& stage,
                               std::span<const RingTensor> activations) {
  const Ring ring(model.l);
  RingTensor y(stage.pre_shape);
  for (std::size_t i : stage.linear_ops) {
    const LinearOp& op = model.linear_ops.at(i);
    const RingTensor part = apply_linear(ring, op, activations[op.input]);
    for (std::size_t j = 0; j < y.size(); ++j) y[j] = ring.add(y[j], part[j]);
  }
  const uint64_t one = uint64_t{1} << model.f;  // 2^f: lifts a scale-f activation to scale 2f
  for (std::size_t a : stage.identity_inputs) {
    const RingTensor& x = activations[a];
    PINFER_ASSERT(x.size() == y.size());
    for (std::size_t j = 0; j < y.size(); ++j) y[j] = ring.add(y[j], ring.mul(x[j], one));
  }
  return y;
}

RingTensor apply_nonlinear(const LoweredModel& model, const Stage& stage, const RingTensor& y) {
  const NonLinear& nl = stage.nonlinear;
  if (nl.kind == NonLinear::Kind::none) return y;
  const Ring ring(model.l);
  RingTensor out(stage_output_shape(stage));
  if (nl.kind == NonLinear::Kind::argmax) {
    std::size_t best = 0;  // the first largest, as the argmax circuit keeps it
    for (std::size_t i = 1; i < y.size(); ++i) {
      if (ring.to_signed(y[i]) > ring.to_signed(y[best])) best = i;
    }
    out[0] = best;
    return out;
  }
  if (nl.kind == NonLinear::Kind::topk) {
    const std::vector<std::size_t> top = top_k_classes(ring, y.span(), nl.top_k);
    for (std::size_t i = 0; i < top.size(); ++i) out[i] = top[i];
    return out;
  }
  if (nl.kind == NonLinear::Kind::clip) {
    // min(max(floor(signed(y) / 2^f), lo), hi), as the clip circuit computes it: the truncated
    // value has l - f signed bits, and bounds are clamped to that range first.
    const unsigned w = model.l - model.f;
    const int64_t min = -(int64_t{1} << (w - 1)), max = (int64_t{1} << (w - 1)) - 1;
    const int64_t lo = std::clamp(nl.clip_lo, min, max), hi = std::clamp(nl.clip_hi, min, max);
    for (std::size_t i = 0; i < y.size(); ++i) {
      out[i] = ring.from_signed(std::clamp<int64_t>(ring.to_signed(y[i]) >> model.f, lo, hi));
    }
    return out;
  }
  // ReLU(floor(signed(y) / 2^f)): the arithmetic shift is the exact floor the circuit computes.
  std::vector<int64_t> r(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    r[i] = std::max<int64_t>(0, ring.to_signed(y[i]) >> model.f);
  }
  if (nl.kind == NonLinear::Kind::relu) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = ring.from_signed(r[i]);
    return out;
  }
  // Max pooling over the windows' input elements only (the same gather the circuits use).
  const std::vector<uint32_t> gather = max_pool_gather(stage.pre_shape, nl.pool);
  const std::size_t n = nl.pool.kernel_h * nl.pool.kernel_w;
  for (std::size_t o = 0; o < out.size(); ++o) {
    int64_t m = 0;  // every candidate is a ReLU output, so >= 0
    for (std::size_t e = 0; e < n; ++e) m = std::max(m, r[gather[o * n + e]]);
    out[o] = ring.from_signed(m);
  }
  return out;
}

FixedPointTrace trace_fixed_point(const LoweredModel& model, const RingTensor& encoded_input) {
  if (encoded_input.size() != model.input_shape.numel()) {
    throw InvalidArgument("encoded input has " + std::to_string(encoded_input.size()) +
                          " values, expected " + model.input_shape.to_string());
  }
  FixedPointTrace t;
  t.activations.reserve(model.stages.size() + 1);
  t.activations.push_back(encoded_input);
  t.activations.back().reshape_inplace(model.input_shape);
  for (const Stage& stage : model.stages) {
    t.preactivations.push_back(stage_preactivation(model, stage, t.activations));
    t.activations.push_back(apply_nonlinear(model, stage, t.preactivations.back()));
  }
  return t;
}

RingTensor run_fixed_point(const LoweredModel& model, const RingTensor& encoded_input) {
  if (encoded_input.size() != model.input_shape.numel()) {
    throw InvalidArgument("encoded input has " + std::to_string(encoded_input.size()) +
                          " values, expected " + model.input_shape.to_string());
  }
  // Keep only the activations that a later stage still reads, so big networks stay small.
  std::vector<std::size_t> last_use(model.stages.size() + 1, 0);
  for (std::size_t s = 0; s < model.stages.size(); ++s) {
    for (std::size_t i : model.stages[s].linear_ops) last_use[model.linear_ops[i].input] = s;
    for (std::size_t a : model.stages[s].identity_inputs) last_use[a] = s;
  }
  std::vector<RingTensor> acts(model.stages.size() + 1);
  acts[0] = encoded_input;
  acts[0].reshape_inplace(model.input_shape);
  for (std::size_t s = 0; s < model.stages.size(); ++s) {
    const Stage& stage = model.stages[s];
    acts[s + 1] = apply_nonlinear(model, stage, stage_preactivation(model, stage, acts));
    for (std::size_t a = 0; a <= s; ++a) {
      if (last_use[a] == s) acts[a] = RingTensor();
    }
  }
  return std::move(acts.back());
}

LoweredModel widen_to_64_bits(const LoweredModel& model) {
  const Ring from(model.l), to(64);
  LoweredModel w = model;
  w.l = 64;
  for (LinearOp& op : w.linear_ops) {
    for (uint64_t& v : op.weight.span()) v = to.from_signed(from.to_signed(v));
    for (uint64_t& v : op.bias.span()) v = to.from_signed(from.to_signed(v));
  }
  return w;
}

double headroom_bits(const LoweredModel& model, const RingTensor& encoded_input) {
  const LoweredModel wide = widen_to_64_bits(model);
  const Ring from(model.l), to(64);
  RingTensor x = encoded_input;
  uint64_t max_abs = 0;
  auto track = [&](int64_t s) {
    const uint64_t a = s < 0 ? uint64_t{0} - static_cast<uint64_t>(s) : static_cast<uint64_t>(s);
    max_abs = std::max(max_abs, a);
  };
  for (uint64_t& v : x.span()) {
    track(from.to_signed(v));
    v = to.from_signed(from.to_signed(v));
  }
  const FixedPointTrace t = trace_fixed_point(wide, x);
  for (const RingTensor& y : t.preactivations) {
    for (uint64_t v : y.span()) track(to.to_signed(v));
  }
  if (max_abs == 0) return static_cast<double>(model.l - 1);
  return static_cast<double>(model.l - 1) - std::log2(static_cast<double>(max_abs));
}

std::vector<double> decode_logits(const LoweredModel& model, const RingTensor& logits) {
  const FixedPoint fp(Ring(model.l), model.f);
  std::vector<double> out(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i)
    out[i] = fp.decode_at_scale(logits[i], 2 * model.f);
  return out;
}

}  // namespace pinfer::nn
