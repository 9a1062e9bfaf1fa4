// `pinfer model info MODEL`, `pinfer model run MODEL --input FILE` and `pinfer model check MODEL
// --data X.npy [--labels Y.npy]`: inspect a network (layers, shapes, ReLU / MAC / parameter
// counts, the chosen ring (l, f)), run both plaintext engines, and see what quantization costs on
// a data set (top-1 agreement, accuracy, the worst ring margin) before serving it.
// MODEL is a built-in name (resnet18:tinyimagenet, ...) or a path to an .onnx file.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "calibration_option.hpp"
#include "command_registry.hpp"
#include "pinfer/nn/builtin_models.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/float_engine.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/nn/model_check.hpp"
#include "pinfer/nn/model_loader.hpp"

namespace pinfer::cli {
namespace {

struct Options {
  std::string model;
  std::string input;
  std::string data;    // check
  std::string labels;  // check
  std::string calibration;
  uint64_t seed = 1;
  unsigned frac_bits = 0;  // 0: the default rule
  bool json = false;
};

nn::LoadOptions load_options(const Options& o) {
  nn::LoadOptions l;
  l.seed = o.seed;
  if (o.frac_bits) l.quantization.frac_bits = o.frac_bits;
  return l;
}

nn::LoadedModel load(const Options& o) {
  return load_calibrated(o.model, o.calibration, load_options(o)).loaded;
}

std::string_view stage_kind(const nn::Stage& s) {
  switch (s.nonlinear.kind) {
    case nn::NonLinear::Kind::relu:
      return "relu";
    case nn::NonLinear::Kind::relu_maxpool:
      return "relu_maxpool";
    case nn::NonLinear::Kind::none:
      return "output";
    case nn::NonLinear::Kind::argmax:
      return "argmax";
    case nn::NonLinear::Kind::topk:
      return "topk";
    case nn::NonLinear::Kind::clip:
      return s.nonlinear.clip_lo <= nn::kNoClipLow / 2 && s.nonlinear.clip_hi >= nn::kNoClipHigh / 2
                 ? "rescale"
                 : "clip";
  }
  return "?";
}

void info(const Options& o) {
  const nn::LoadedModel m = load(o);
  const nn::ModelCounts ir = nn::count(m.model);
  const nn::LoweredCounts lc = nn::count(m.lowered);
  nlohmann::json layers = nlohmann::json::array();
  for (const nn::Layer& l : m.model.layers()) {
    layers.push_back(
        {{"name", l.name}, {"kind", nn::to_string(l.kind)}, {"shape", l.shape.to_string()}});
  }
  nlohmann::json stages = nlohmann::json::array();
  for (const nn::Stage& s : m.lowered.stages) {
    std::vector<std::string> ops;
    for (std::size_t i : s.linear_ops) ops.push_back(m.lowered.linear_ops[i].name);
    stages.push_back({{"linear_ops", ops},
                      {"identity_inputs", s.identity_inputs},
                      {"pre_shape", s.pre_shape.to_string()},
                      {"nonlinear", stage_kind(s)},
                      {"output_shape", m.lowered.activation_shapes[s.output].to_string()}});
  }
  if (o.json) {
    const nlohmann::json j = {
        {"name", m.model.name()},
        {"input_shape", m.model.input_shape().to_string()},
        {"relus", ir.relus},
        {"comparisons", ir.comparisons},
        {"macs", ir.macs},
        {"lowered_macs", lc.macs},
        {"params", ir.params},
        {"lowered_params", lc.params},
        {"activations", ir.activations},
        {"l", m.lowered.l},
        {"f", m.lowered.f},
        {"margin_bits", m.quantization.margin_bits},
        {"max_abs_preactivation_log2", m.quantization.max_abs_preactivation_log2},
        {"top1_agreement_calibration", m.quantization.top1_agreement},
        {"calibration", m.calibration_source},
        {"layers", layers},
        {"stages", stages}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("model {}  input {}\n\n", m.model.name(), m.model.input_shape().to_string());
  fmt::print("{:>4}  {:<32} {:<14} {}\n", "#", "layer", "kind", "output");
  for (std::size_t i = 0; i < m.model.layers().size(); ++i) {
    const nn::Layer& l = m.model.layers()[i];
    fmt::print("{:>4}  {:<32} {:<14} {}\n", i, l.name, nn::to_string(l.kind), l.shape.to_string());
  }
  fmt::print("\nrelus        {}\ncomparisons  {}\nmacs         {} (lowered: {})\n", ir.relus,
             ir.comparisons, ir.macs, lc.macs);
  fmt::print("params       {} (lowered, BN folded: {})\n", ir.params, lc.params);
  fmt::print("stages       {} garbled-circuit layers + output\n", m.lowered.stages.size() - 1);
  fmt::print("ring         l = {}, f = {}  (max |y| = 2^{:.2f}, margin {:.2f} bits)\n", m.lowered.l,
             m.lowered.f, m.quantization.max_abs_preactivation_log2, m.quantization.margin_bits);
  fmt::print("calibration  {}; fixed-point top-1 agrees with float on {:.1f}%\n",
             m.calibration_source, 100 * m.quantization.top1_agreement);
}

std::vector<std::size_t> top5(const std::vector<double>& v) {
  std::vector<std::size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  const std::size_t k = std::min<std::size_t>(5, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](std::size_t a, std::size_t b) { return v[a] > v[b]; });
  idx.resize(k);
  return idx;
}

void run(const Options& o) {
  const nn::LoadedModel m = load(o);
  const FloatTensor x = nn::load_input_file(o.input, m.model.input_shape());
  const FloatTensor yf = nn::run_float(m.model, x);
  const std::vector<double> fl(yf.values().begin(), yf.values().end());
  const std::vector<double> fx =
      nn::decode_logits(m.lowered, nn::run_fixed_point(m.lowered, nn::encode_input(m.lowered, x)));
  const std::vector<std::size_t> tf = top5(fl), tx = top5(fx);
  if (o.json) {
    nlohmann::json j = {{"model", m.model.name()}, {"l", m.lowered.l}, {"f", m.lowered.f}};
    for (auto [key, top, vals] :
         {std::tuple{"float", &tf, &fl}, std::tuple{"fixed_point", &tx, &fx}}) {
      nlohmann::json a = nlohmann::json::array();
      for (std::size_t c : *top) a.push_back({{"class", c}, {"logit", (*vals)[c]}});
      j[key] = a;
    }
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("model {}  (l = {}, f = {})  input {}\n", m.model.name(), m.lowered.l, m.lowered.f,
             o.input);
  fmt::print("{:>4}  {:>8} {:>12}   {:>8} {:>12}\n", "rank", "float", "logit", "fixed", "logit");
  for (std::size_t r = 0; r < tf.size(); ++r) {
    fmt::print("{:>4}  {:>8} {:>12.5f}   {:>8} {:>12.5f}\n", r + 1, tf[r], fl[tf[r]], tx[r],
               fx[tx[r]]);
  }
}

void check(const Options& o) {
  const nn::LoadedModel m = load(o);
  const std::vector<FloatTensor> data = nn::split_batch(nn::read_npy_float(o.data));
  std::vector<int64_t> labels;
  if (!o.labels.empty()) labels = nn::read_npy_int(o.labels);
  const nn::ModelCheck c = nn::check_model(m.model, m.lowered, data, labels);
  const nn::RingHeadroom& h = c.headroom;
  if (o.json) {
    const nlohmann::json j = {
        {"model", m.model.name()},
        {"l", m.lowered.l},
        {"f", m.lowered.f},
        {"calibration", m.calibration_source},
        {"samples", c.samples},
        {"agreement", c.agreement},
        {"accuracy", c.accuracy ? nlohmann::json(*c.accuracy) : nlohmann::json()},
        {"float_accuracy", c.float_accuracy ? nlohmann::json(*c.float_accuracy) : nlohmann::json()},
        {"margin_bits", h.margin_bits},
        {"worst_input", h.worst_input},
        {"worst_layer", h.worst_layer},
        {"wrapped", h.wrapped}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("model {}  (l = {}, f = {}; calibration {})\n", m.model.name(), m.lowered.l,
             m.lowered.f, m.calibration_source);
  fmt::print("data          {} ({} inputs)\n", o.data, c.samples);
  fmt::print("agreement     {:.2f}% (fixed-point top-1 = float top-1)\n", 100 * c.agreement);
  if (c.accuracy) {
    fmt::print("accuracy      fixed point {:.2f}%, float {:.2f}% ({})\n", 100 * *c.accuracy,
               100 * *c.float_accuracy, o.labels);
  }
  fmt::print("worst margin  {:.2f} bits (input {}, layer {}); {} of {} inputs wrap the ring\n",
             h.margin_bits, h.worst_input, h.worst_layer, h.wrapped, c.samples);
  if (h.wrapped > 0) {
    fmt::print(
        "these inputs overflow the {}-bit ring: quantize on inputs like them "
        "(--calibration {})\n",
        m.lowered.l, o.data);
  }
}

void add_common(CLI::App* cmd, Options& o) {
  cmd->add_option("MODEL", o.model, "Built-in name (e.g. resnet18:tinyimagenet) or path.onnx")
      ->required();
  cmd->add_flag("--json", o.json, "Print one JSON object");
  cmd->add_option("--seed", o.seed, "Seed of built-in weights and random calibration inputs");
  add_calibration_option(*cmd, o.calibration);
  cmd->add_option("--frac-bits", o.frac_bits, "Fix f instead of the default rule")
      ->check(CLI::Range(1, 30));
}

void setup(CLI::App& app) {
  CLI::App* model = app.add_subcommand("model", "Inspect and run networks in plaintext");
  model->require_subcommand(1);
  auto io = std::make_shared<Options>();
  CLI::App* info_cmd =
      model->add_subcommand("info", "Layers, shapes, ReLU / MAC / parameter counts, chosen (l, f)");
  add_common(info_cmd, *io);
  info_cmd->callback([io] { info(*io); });
  auto ro = std::make_shared<Options>();
  CLI::App* run_cmd =
      model->add_subcommand("run", "Top-5 classes from the float and fixed-point engines");
  add_common(run_cmd, *ro);
  run_cmd->add_option("--input", ro->input, "Input image: .npy float32 NCHW or .pgm")->required();
  run_cmd->callback([ro] { run(*ro); });
  auto co = std::make_shared<Options>();
  CLI::App* check_cmd = model->add_subcommand(
      "check", "Float vs fixed-point top-1 agreement, accuracy and the worst ring margin on data");
  add_common(check_cmd, *co);
  check_cmd->add_option("--data", co->data, "Inputs: .npy float32 N x C x H x W")->required();
  check_cmd->add_option("--labels", co->labels, "Their labels: .npy int64 (N,) (optional)");
  check_cmd->callback([co] { check(*co); });
}

const CommandRegistration kRegistration("", "model", &setup);

}  // namespace
}  // namespace pinfer::cli
