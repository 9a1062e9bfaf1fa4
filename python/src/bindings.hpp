#pragma once
// Shared pieces of the pinfer Python bindings: conversions between numpy / Python objects and
// the library's types, and the Model wrapper the server binding takes. No protocol logic lives
// here: every call goes to the library (include/pinfer/...).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/tensor.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/inference_client.hpp"

namespace pinfer::python {

namespace py = pybind11;

// An array's values and shape copied out of Python (taken with the GIL held, so the work on it
// can run without).
struct RawArray {
  std::vector<std::size_t> dims;
  std::vector<float> values;
};
// Anything numpy can turn into a float32 array (ndarray, nested lists). Throws InvalidArgument
// naming `what` if it cannot.
[[nodiscard]] RawArray raw_array(const py::handle& x, const char* what);

// One input of shape `expected` (e.g. 1x1x8x8); the same shape without its leading 1 (1x8x8)
// is accepted too. Throws InvalidArgument naming both shapes otherwise.
[[nodiscard]] FloatTensor to_input(const RawArray& x, const Shape& expected);
// N inputs stacked along a new first axis (N x C x H x W for a 1 x C x H x W model).
[[nodiscard]] std::vector<FloatTensor> to_batch(const RawArray& x, const Shape& expected);

[[nodiscard]] py::array_t<float> to_numpy(const std::vector<float>& v);
[[nodiscard]] py::array_t<double> to_numpy(const std::vector<double>& v);
[[nodiscard]] py::array_t<uint64_t> to_numpy(const std::vector<uint64_t>& v);
[[nodiscard]] py::tuple to_tuple(const Shape& shape);
// JSON -> dict / list / str / int / float / bool / None.
[[nodiscard]] py::object to_python(const nlohmann::json& j);
// dict / list / str / int / float / bool / None -> JSON (TypeError for anything else,
// InvalidArgument naming `what` for NaN or infinity).
[[nodiscard]] nlohmann::json from_python(const py::handle& obj, const char* what);
// A str or os.PathLike as a path string; TypeError otherwise.
[[nodiscard]] std::string path_string(const py::handle& p);

// pinfer.Model: a loaded, lowered and quantized model, shared (read only) with the servers
// made from it.
struct PyModel {
  std::string spec;                        // as given: path or built-in name
  std::optional<std::string> calibration;  // the calibration file, if one was given
  std::shared_ptr<const nn::LoadedModel> loaded;
};
// `model` is a pinfer.Model, or a path / built-in name loaded with default options.
[[nodiscard]] std::shared_ptr<PyModel> as_model(const py::handle& model);

// An optional Python progress(step, done, total) callable as the library's ProgressFn. The
// library may call it on a worker thread, without the GIL (taken for the call), where an
// exception only ends the run by closing its channel: run() reports what the callable raised
// instead of the channel error it caused.
class PyProgress {
 public:
  // None or a callable; InvalidArgument otherwise. The object must outlive every fn().
  explicit PyProgress(py::object callable);
  // Empty when there is no callable.
  [[nodiscard]] protocol::ProgressFn fn() const;
  // Runs f (called without the GIL); if f throws after the callable raised, throws
  // Error("progress callback raised ...") instead.
  template <typename F>
  void run(F&& f) const {
    raised_->clear();
    try {
      f();
    } catch (const std::exception&) {
      if (!raised_->empty()) throw Error("progress callback raised " + *raised_);
      throw;
    }
  }

 private:
  py::object callable_;
  std::shared_ptr<std::string> raised_ = std::make_shared<std::string>();
};

// The shipped data folder for "paper:" profiles and the like (data_dir.cpp): $PINFER_DATA_DIR,
// else the first share/pinfer above the module's file, else ".".
[[nodiscard]] std::string data_dir();

void bind_errors(py::module_& m);
void bind_model(py::module_& m);
void bind_service(py::module_& m);
void bind_tools(py::module_& m);

}  // namespace pinfer::python
