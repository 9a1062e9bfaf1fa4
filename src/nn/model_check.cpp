#include "pinfer/nn/model_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/float_engine.hpp"

namespace pinfer::nn {
namespace {

uint64_t magnitude(int64_t s) {
  return s < 0 ? uint64_t{0} - static_cast<uint64_t>(s) : static_cast<uint64_t>(s);
}

double margin_of(unsigned l, uint64_t max_abs) {
  if (max_abs == 0) return static_cast<double>(l - 1);
  return static_cast<double>(l - 1) - std::log2(static_cast<double>(max_abs));
}

std::string layer_of(const LoweredModel& m, std::size_t stage) {
  if (stage == RingHeadroom::kInputStage) return "input";
  const Stage& st = m.stages[stage];
  if (!st.linear_ops.empty()) return m.linear_ops[st.linear_ops.front()].name;
  return "identity sum of stage " + std::to_string(stage);
}

std::string format_bits(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

RingHeadroom ring_headroom(const LoweredModel& model, std::span<const FloatTensor> inputs) {
  if (inputs.empty()) throw InvalidArgument("no inputs to measure the ring's headroom on");
  const LoweredModel wide = widen_to_64_bits(model);
  const Ring from(model.l), to(64);
  RingHeadroom h;
  h.margin_bits = static_cast<double>(model.l);  // above any real margin
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    RingTensor x = encode_input(model, inputs[i]);
    uint64_t worst = 0;
    std::size_t worst_stage = RingHeadroom::kInputStage;
    for (uint64_t& v : x.span()) {
      worst = std::max(worst, magnitude(from.to_signed(v)));
      v = to.from_signed(from.to_signed(v));
    }
    const FixedPointTrace t = trace_fixed_point(wide, x);
    for (std::size_t s = 0; s < t.preactivations.size(); ++s) {
      for (uint64_t v : t.preactivations[s].span()) {
        const uint64_t a = magnitude(to.to_signed(v));
        if (a > worst) worst = a, worst_stage = s;
      }
    }
    const double margin = margin_of(model.l, worst);
    h.per_input.push_back(margin);
    h.wrapped += margin <= 0;
    if (margin < h.margin_bits) {
      h.margin_bits = margin;
      h.worst_input = i;
      h.worst_stage = worst_stage;
    }
  }
  h.worst_layer = layer_of(model, h.worst_stage);
  return h;
}

RingHeadroom require_ring_headroom(const LoweredModel& model, std::span<const FloatTensor> inputs,
                                   const std::string& what) {
  RingHeadroom h = ring_headroom(model, inputs);
  if (h.margin_bits > 0) return h;
  const std::string where =
      h.worst_stage == RingHeadroom::kInputStage
          ? std::string("the encoded input")
          : "stage " + std::to_string(h.worst_stage) + " (layer " + h.worst_layer + ")";
  throw Unsupported(what + " " + std::to_string(h.worst_input) + " overflows the " +
                    std::to_string(model.l) + "-bit ring of model " + model.name + " at " + where +
                    ": margin " + format_bits(h.margin_bits) + " bits (" +
                    std::to_string(h.wrapped) + " of " + std::to_string(inputs.size()) +
                    " inputs wrap); quantize on inputs like these (a calibration set)");
}

ModelCheck check_model(const Model& model, const LoweredModel& lowered,
                       std::span<const FloatTensor> inputs, std::span<const int64_t> labels) {
  if (inputs.empty()) throw InvalidArgument("model check: the data holds no inputs");
  if (!labels.empty() && labels.size() != inputs.size()) {
    throw InvalidArgument("model check: " + std::to_string(labels.size()) + " labels for " +
                          std::to_string(inputs.size()) + " inputs");
  }
  ModelCheck c;
  c.samples = inputs.size();
  c.headroom = ring_headroom(lowered, inputs);  // also checks every input's size
  const Ring ring(lowered.l);
  std::size_t agree = 0, correct = 0, float_correct = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const FloatTensor y = run_float(model, inputs[i]);
    const auto v = y.values();
    const auto top_float =
        static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
    const RingTensor logits = run_fixed_point(lowered, encode_input(lowered, inputs[i]));
    const std::size_t top_fixed = top_k_classes(ring, logits.span(), 1).front();
    agree += top_fixed == top_float;
    if (!labels.empty()) {
      correct += static_cast<int64_t>(top_fixed) == labels[i];
      float_correct += static_cast<int64_t>(top_float) == labels[i];
    }
  }
  const auto n = static_cast<double>(inputs.size());
  c.agreement = static_cast<double>(agree) / n;
  if (!labels.empty()) {
    c.accuracy = static_cast<double>(correct) / n;
    c.float_accuracy = static_cast<double>(float_correct) / n;
  }
  return c;
}

}  // namespace pinfer::nn
