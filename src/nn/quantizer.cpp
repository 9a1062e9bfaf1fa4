#include "pinfer/nn/quantizer.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/float_engine.hpp"

namespace pinfer::nn {

namespace {

// round(v * 2^scale) in Z_2^l; throws InvalidArgument naming the op if it does not fit.
uint64_t encode_param(const Ring& ring, double v, unsigned scale, const LinearOp& op,
                      const char* what) {
  const double scaled = std::nearbyint(std::ldexp(v, static_cast<int>(scale)));
  const double limit = std::ldexp(1.0, static_cast<int>(ring.bits()) - 1);
  if (!std::isfinite(scaled) || scaled < -limit || scaled >= limit) {
    throw InvalidArgument("layer " + op.name + ": " + what + " " + std::to_string(v) +
                          " does not fit l=" + std::to_string(ring.bits()) + " at scale 2^" +
                          std::to_string(scale));
  }
  return ring.from_signed(static_cast<int64_t>(scaled));
}

std::size_t argmax(std::span<const double> v) {
  return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

struct Calibrated {
  uint64_t max_abs = 0;  // largest |y| or |encoded input|, ring units
  std::size_t agree = 0;
  std::size_t max_input = 0;                             // the calibration input it came from
  std::size_t max_stage = static_cast<std::size_t>(-1);  // its stage (-1: the input)
};

// "stage 3 (layer conv2)" or "the encoded input", for messages.
std::string where(const LoweredModel& m, std::size_t stage) {
  if (stage == static_cast<std::size_t>(-1)) return "the encoded input";
  const Stage& st = m.stages[stage];
  return "stage " + std::to_string(stage) + " (layer " +
         (st.linear_ops.empty() ? std::string("identity sum")
                                : m.linear_ops[st.linear_ops[0]].name) +
         ")";
}

// Runs the fixed-point engine in Z_2^64 (exact for |y| < 2^63) on every calibration input.
Calibrated calibrate(const LoweredPlan& plan, unsigned f, std::span<const FloatTensor> inputs,
                     std::span<const std::size_t> float_top1) {
  const LoweredModel q = quantize(plan, 64, f);
  const Ring ring(64);
  Calibrated c;
  std::size_t input = 0, stage = static_cast<std::size_t>(-1);
  auto track = [&](uint64_t v) {
    const int64_t s = ring.to_signed(v);
    const uint64_t a = s < 0 ? uint64_t(0) - static_cast<uint64_t>(s) : static_cast<uint64_t>(s);
    if (a > c.max_abs) c.max_abs = a, c.max_input = input, c.max_stage = stage;
  };
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    input = k;
    stage = static_cast<std::size_t>(-1);
    std::vector<RingTensor> acts;
    acts.push_back(encode_input(q, inputs[k]));
    for (uint64_t v : acts[0].span()) track(v);
    RingTensor y;
    for (stage = 0; stage < q.stages.size(); ++stage) {
      const Stage& st = q.stages[stage];
      y = stage_preactivation(q, st, acts);
      for (uint64_t v : y.span()) track(v);
      acts.push_back(apply_nonlinear(q, st, y));
    }
    const std::vector<double> logits = decode_logits(q, acts.back());
    if (argmax(logits) == float_top1[k]) ++c.agree;
  }
  // Values this large may have wrapped in Z_2^64; refuse rather than report a wrong bound.
  if (c.max_abs >= (uint64_t{1} << 61)) {
    throw Unsupported("model " + plan.structure.name +
                      ": intermediate values exceed 2^61 at f=" + std::to_string(f));
  }
  return c;
}

}  // namespace

LoweredModel quantize(const LoweredPlan& plan, unsigned l, unsigned f) {
  if (l > 64 || 2 * f + 2 > l) {
    throw InvalidArgument("cannot quantize with l=" + std::to_string(l) +
                          " f=" + std::to_string(f) + " (need 2f + 2 <= l <= 64)");
  }
  const Ring ring(l);
  LoweredModel m = plan.structure;
  m.l = l;
  m.f = f;
  for (std::size_t i = 0; i < m.linear_ops.size(); ++i) {
    LinearOp& op = m.linear_ops[i];
    const FloatLinearParams& p = plan.params[i];
    if (op.kind == LinearOp::Kind::conv) {
      const ConvGeometry& g = op.conv;
      op.weight = RingTensor(Shape{g.out_channels, g.group_in_channels(), g.kernel_h, g.kernel_w});
    } else {
      op.weight = RingTensor(Shape{op.out_features, op.in_features});
    }
    PINFER_ASSERT(op.weight.size() == p.weight.size());
    op.bias = RingTensor(Shape{p.bias.size()});
    for (std::size_t k = 0; k < p.weight.size(); ++k) {
      op.weight[k] = encode_param(ring, p.weight[k], f, op, "weight");
    }
    for (std::size_t k = 0; k < p.bias.size(); ++k) {
      op.bias[k] = encode_param(ring, p.bias[k], 2 * f, op, "bias");
    }
  }
  // Clip bounds at scale f: round(bound * 2^f), an infinite (or out-of-ring) bound is none.
  const double limit = std::ldexp(1.0, static_cast<int>(l) - 1);
  for (Stage& st : m.stages) {
    NonLinear& nl = st.nonlinear;
    if (nl.kind != NonLinear::Kind::clip) continue;
    const double lo = std::nearbyint(std::ldexp(nl.clip_min, static_cast<int>(f)));
    const double hi = std::nearbyint(std::ldexp(nl.clip_max, static_cast<int>(f)));
    nl.clip_lo = lo <= -limit ? kNoClipLow : static_cast<int64_t>(std::min(lo, limit));
    nl.clip_hi = hi >= limit ? kNoClipHigh : static_cast<int64_t>(std::max(hi, -limit));
  }
  return m;
}

QuantizationChoice choose_quantization(const Model& model, const LoweredPlan& plan,
                                       std::span<const FloatTensor> calibration,
                                       const QuantizationOptions& options) {
  if (calibration.empty()) throw InvalidArgument("quantization needs a calibration input");
  if (options.min_frac_bits == 0 || options.min_frac_bits > options.max_frac_bits ||
      options.max_frac_bits > 30) {
    throw InvalidArgument("fractional bit range " + std::to_string(options.min_frac_bits) + ".." +
                          std::to_string(options.max_frac_bits) + " is invalid (1..30)");
  }
  std::vector<std::size_t> float_top1;
  for (const FloatTensor& x : calibration) {
    const FloatTensor y = run_float(model, x);
    std::vector<double> v(y.values().begin(), y.values().end());
    float_top1.push_back(argmax(v));
  }
  const unsigned lo = options.frac_bits.value_or(options.min_frac_bits);
  const unsigned hi = options.frac_bits.value_or(options.max_frac_bits);
  QuantizationChoice choice;
  Calibrated cal;
  for (unsigned f = lo; f <= hi; ++f) {
    cal = calibrate(plan, f, calibration, float_top1);
    choice.f = f;
    if (static_cast<double>(cal.agree) >=
        options.min_agreement * static_cast<double>(calibration.size())) {
      break;
    }
  }
  const unsigned magnitude_bits = static_cast<unsigned>(std::bit_width(cal.max_abs));
  const unsigned l = std::max(1 + magnitude_bits + options.margin_bits, 2 * choice.f + 2);
  if (l > options.max_ring_bits) {
    // Name where the ring would overflow: the largest calibrated sum at the largest ring allowed.
    const double log2_max = std::log2(static_cast<double>(cal.max_abs));
    char numbers[96];
    std::snprintf(numbers, sizeof numbers, "|y| = 2^%.2f", log2_max);
    std::string text = numbers;
    std::snprintf(numbers, sizeof numbers, ", margin %.2f bits at l=%u",
                  static_cast<double>(options.max_ring_bits - 1) - log2_max, options.max_ring_bits);
    throw Unsupported("model " + model.name() + " needs l=" + std::to_string(l) + " > " +
                      std::to_string(options.max_ring_bits) +
                      " ring bits at f=" + std::to_string(choice.f) + ": calibration input " +
                      std::to_string(cal.max_input) + " reaches " + text + " at " +
                      where(plan.structure, cal.max_stage) + numbers + " (" +
                      std::to_string(options.margin_bits) + " required)");
  }
  choice.l = l;
  choice.max_abs_preactivation_log2 =
      cal.max_abs == 0 ? 0.0 : std::log2(static_cast<double>(cal.max_abs));
  choice.margin_bits = static_cast<double>(l - 1) - choice.max_abs_preactivation_log2;
  choice.top1_agreement = static_cast<double>(cal.agree) / static_cast<double>(calibration.size());
  choice.calibration_samples = calibration.size();
  return choice;
}

LoweredModel lower(const Model& model, std::span<const FloatTensor> calibration,
                   const QuantizationOptions& options) {
  const LoweredPlan plan = plan_lowering(model);
  const QuantizationChoice c = choose_quantization(model, plan, calibration, options);
  LoweredModel m = quantize(plan, c.l, c.f);
  m.max_abs_preactivation_log2 = c.max_abs_preactivation_log2;
  m.margin_bits = c.margin_bits;
  m.calibration_samples = c.calibration_samples;
  return m;
}

}  // namespace pinfer::nn
