// pinfer.Model: load (ONNX file or built-in), inspect, run the float and fixed-point engines.
#include <algorithm>
#include <cmath>
#include <limits>

#include "bindings.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/float_engine.hpp"
#include "pinfer/nn/model_check.hpp"

namespace pinfer::python {

namespace {

std::shared_ptr<PyModel> load(const py::handle& spec, const py::object& calibration, uint64_t seed,
                              std::optional<unsigned> frac_bits) {
  auto m = std::make_shared<PyModel>();
  m->spec = path_string(spec);
  nn::LoadOptions options;
  options.seed = seed;
  if (!calibration.is_none()) {
    m->calibration = path_string(calibration);
    options.calibration_file = *m->calibration;
  }
  if (frac_bits) options.quantization.frac_bits = *frac_bits;
  py::gil_scoped_release release;
  m->loaded = std::make_shared<const nn::LoadedModel>(nn::load_model(m->spec, options));
  return m;
}

py::dict info(const PyModel& m) {
  const nn::LoadedModel& l = *m.loaded;
  const nn::ModelCounts ir = nn::count(l.model);
  const nn::LoweredCounts lc = nn::count(l.lowered);
  py::list layers;
  for (const nn::Layer& layer : l.model.layers()) {
    py::dict d;
    d["name"] = layer.name;
    d["kind"] = std::string(nn::to_string(layer.kind));
    d["shape"] = to_tuple(layer.shape);
    layers.append(d);
  }
  py::dict d;
  d["name"] = l.model.name();
  d["input_shape"] = to_tuple(l.model.input_shape());
  d["relus"] = ir.relus;
  d["comparisons"] = ir.comparisons;
  d["macs"] = ir.macs;
  d["lowered_macs"] = lc.macs;
  d["params"] = ir.params;
  d["lowered_params"] = lc.params;
  d["l"] = l.lowered.l;
  d["f"] = l.lowered.f;
  d["margin_bits"] = l.quantization.margin_bits;
  d["top1_agreement_calibration"] = l.quantization.top1_agreement;
  d["calibration"] = l.calibration_source;
  d["layers"] = layers;
  return d;
}

py::array_t<float> run_float(const PyModel& m, const py::handle& x) {
  const RawArray raw = raw_array(x, "input");
  std::vector<float> out;
  {
    py::gil_scoped_release release;
    const FloatTensor input = to_input(raw, m.loaded->model.input_shape());
    out = nn::run_float(m.loaded->model, input).values();
  }
  return to_numpy(out);
}

py::object run_fixed_point(const PyModel& m, const py::handle& x, bool ring) {
  const RawArray raw = raw_array(x, "input");
  RingTensor logits;
  {
    py::gil_scoped_release release;
    const FloatTensor input = to_input(raw, m.loaded->lowered.input_shape);
    logits = nn::run_fixed_point(m.loaded->lowered, nn::encode_input(m.loaded->lowered, input));
  }
  if (ring) return to_numpy(logits.values());
  return to_numpy(nn::decode_logits(m.loaded->lowered, logits));
}

// Fixed point against float (and against labels) over a data set, and the smallest headroom
// (nn::check_model, docs/MODELS.md): <= 0 means the l-bit ring wrapped on some input.
py::dict check(const PyModel& m, const py::handle& data, const py::object& labels_obj) {
  const RawArray raw = raw_array(data, "data");
  std::vector<int64_t> labels;
  if (!labels_obj.is_none()) {
    labels = py::cast<std::vector<int64_t>>(
        py::module_::import("numpy").attr("asarray")(labels_obj).attr("ravel")().attr("tolist")());
    if (labels.empty()) throw InvalidArgument("labels holds no entries");
  }
  nn::ModelCheck c;
  {
    py::gil_scoped_release release;
    const nn::LoadedModel& l = *m.loaded;
    const std::vector<FloatTensor> inputs = to_batch(raw, l.lowered.input_shape);
    if (inputs.empty()) throw InvalidArgument("data holds no inputs");
    c = nn::check_model(l.model, l.lowered, inputs, labels);
  }
  py::dict d;
  d["samples"] = c.samples;
  d["agreement"] = c.agreement;
  d["accuracy"] = c.accuracy ? py::cast(*c.accuracy) : py::none();
  d["float_accuracy"] = c.float_accuracy ? py::cast(*c.float_accuracy) : py::none();
  d["margin_bits"] = c.headroom.margin_bits;
  d["worst_layer"] = c.headroom.worst_layer;
  d["wrapped"] = c.headroom.wrapped;
  return d;
}

}  // namespace

std::shared_ptr<PyModel> as_model(const py::handle& model) {
  if (py::isinstance<PyModel>(model)) return py::cast<std::shared_ptr<PyModel>>(model);
  return load(model, py::none(), 1, std::nullopt);
}

void bind_model(py::module_& m) {
  py::class_<PyModel, std::shared_ptr<PyModel>>(
      m, "Model",
      "A CNN loaded for private inference: an ONNX file or a built-in name "
      "('resnet18:cifar10'), lowered and quantized to fixed point over Z_2^l.")
      .def(py::init([](const py::object& spec, const py::object& calibration, uint64_t seed,
                       std::optional<unsigned> frac_bits) {
             return load(spec, calibration, seed, frac_bits);
           }),
           py::arg("path_or_builtin"), py::arg("calibration") = py::none(), py::kw_only(),
           py::arg("seed") = 1, py::arg("frac_bits") = py::none(),
           "calibration: .npy (float32 N x C x H x W) the ring size l and fraction bits f are "
           "chosen on; default X.calib.npy beside X.onnx, else random inputs. seed: weights of "
           "built-in networks and random calibration. frac_bits: fix f.")
      .def_property_readonly("spec", [](const PyModel& p) { return p.spec; })
      .def_property_readonly(
          "calibration", [](const PyModel& p) { return p.calibration; },
          "The calibration file given, or None.")
      .def_property_readonly("name", [](const PyModel& p) { return p.loaded->model.name(); })
      .def_property_readonly(
          "input_shape", [](const PyModel& p) { return to_tuple(p.loaded->model.input_shape()); })
      .def_property_readonly("l", [](const PyModel& p) { return p.loaded->lowered.l; })
      .def_property_readonly("f", [](const PyModel& p) { return p.loaded->lowered.f; })
      .def("info", &info,
           "dict: name, input_shape, relus, comparisons, macs, params, l, f, margin_bits, "
           "calibration, layers (name, kind, shape).")
      .def("run_float", &run_float, py::arg("x"),
           "Logits (float32) of the float model for one input.")
      .def("run_fixed_point", &run_fixed_point, py::arg("x"), py::arg("ring") = false,
           "Logits of the fixed-point engine for one input: decoded (float64, value / 2^(2f)), "
           "or with ring=True the ring elements (uint64) private inference reproduces bit-exactly.")
      .def("check", &check, py::arg("data"), py::arg("labels") = py::none(),
           "Fixed point vs float over N inputs: dict of samples, agreement (top-1), accuracy "
           "and float_accuracy (with labels, else None), margin_bits (smallest headroom; <= 0: "
           "the ring wrapped) and wrapped (inputs that wrapped).")
      .def("__repr__", [](const PyModel& p) {
        return "<pinfer.Model " + p.loaded->model.name() +
               " l=" + std::to_string(p.loaded->lowered.l) +
               " f=" + std::to_string(p.loaded->lowered.f) + ">";
      });
}

}  // namespace pinfer::python
