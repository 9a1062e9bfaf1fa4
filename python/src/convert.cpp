#include <fmt/core.h>
#include <fmt/ranges.h>

#include "bindings.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::python {

namespace {
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

std::string shape_text(const std::vector<std::size_t>& dims) {
  return fmt::format("({})", fmt::join(dims, ", "));
}

// The expected shape without a leading 1 (1x1x8x8 -> 1x8x8), or itself.
std::vector<std::size_t> unbatched(const Shape& expected) {
  const auto& d = expected.dims();
  if (d.size() > 1 && d[0] == 1) return {d.begin() + 1, d.end()};
  return d;
}
}  // namespace

RawArray raw_array(const py::handle& x, const char* what) {
  FloatArray a;
  try {
    a = py::cast<FloatArray>(x);
  } catch (const py::cast_error&) {
    throw InvalidArgument(std::string(what) +
                          " must be a numeric array (numpy.ndarray of float32)");
  } catch (const py::error_already_set&) {  // numpy refused the conversion
    throw InvalidArgument(std::string(what) +
                          " must be a numeric array (numpy.ndarray of float32)");
  }
  if (!a) throw InvalidArgument(std::string(what) + " must be a numeric array");
  RawArray r;
  r.dims.assign(a.shape(), a.shape() + a.ndim());
  r.values.assign(a.data(), a.data() + a.size());
  return r;
}

FloatTensor to_input(const RawArray& x, const Shape& expected) {
  if (x.dims != expected.dims() && x.dims != unbatched(expected)) {
    throw InvalidArgument("input of shape " + shape_text(x.dims) +
                          " does not match the model's input " + shape_text(expected.dims()) +
                          " (or " + shape_text(unbatched(expected)) + ")");
  }
  return FloatTensor(expected, x.values);
}

std::vector<FloatTensor> to_batch(const RawArray& x, const Shape& expected) {
  const std::vector<std::size_t> one = unbatched(expected);
  if (x.dims.size() != one.size() + 1 || !std::equal(one.begin(), one.end(), x.dims.begin() + 1)) {
    throw InvalidArgument("data of shape " + shape_text(x.dims) + " is not N inputs of shape " +
                          shape_text(one));
  }
  const std::size_t n = x.dims[0], size = expected.numel();
  std::vector<FloatTensor> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.emplace_back(expected, std::vector<float>(
                                   x.values.begin() + static_cast<std::ptrdiff_t>(i * size),
                                   x.values.begin() + static_cast<std::ptrdiff_t>((i + 1) * size)));
  }
  return out;
}

template <typename T>
static py::array_t<T> copy_to_numpy(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}
py::array_t<float> to_numpy(const std::vector<float>& v) {
  return copy_to_numpy(v);
}
py::array_t<double> to_numpy(const std::vector<double>& v) {
  return copy_to_numpy(v);
}
py::array_t<uint64_t> to_numpy(const std::vector<uint64_t>& v) {
  return copy_to_numpy(v);
}

py::tuple to_tuple(const Shape& shape) {
  py::tuple t(shape.rank());
  for (std::size_t i = 0; i < shape.rank(); ++i) t[i] = shape[i];
  return t;
}

py::object to_python(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

nlohmann::json from_python(const py::handle& obj, const char* what) {
  // Through the json module: its types are exactly JSON's; allow_nan=False refuses NaN.
  py::object text;
  try {
    text = py::module_::import("json").attr("dumps")(obj, py::arg("allow_nan") = false);
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_ValueError)) throw;
    throw InvalidArgument(std::string(what) + ": " + e.what());
  }
  return nlohmann::json::parse(text.cast<std::string>());
}

PyProgress::PyProgress(py::object callable) : callable_(std::move(callable)) {
  if (!callable_.is_none() && !PyCallable_Check(callable_.ptr())) {
    throw InvalidArgument("progress must be callable as progress(step, done, total)");
  }
}

protocol::ProgressFn PyProgress::fn() const {
  if (callable_.is_none()) return {};
  // By pointer: copying the py::object on a thread without the GIL would touch its refcount.
  return [callable = &callable_, raised = raised_](std::string_view step, uint64_t done,
                                                   uint64_t total) {
    py::gil_scoped_acquire gil;
    try {
      (*callable)(std::string(step), done, total);
    } catch (py::error_already_set& e) {
      *raised = e.what();
      throw Error("progress callback raised " + *raised);
    }
  };
}

std::string path_string(const py::handle& p) {
  return py::str(py::module_::import("os").attr("fspath")(p));
}

}  // namespace pinfer::python
