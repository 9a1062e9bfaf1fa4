// The extension module pinfer._pinfer; python/pinfer/__init__.py re-exports it.
#include "bindings.hpp"
#include "pinfer/core/version.hpp"
#include "pinfer/nn/builtin_models.hpp"

PYBIND11_MODULE(_pinfer, m) {
  namespace py = pybind11;
  using namespace pinfer::python;
  m.doc() = "pinfer: private inference of CNNs (bindings of libpinfer)";
  m.attr("__version__") = std::string(pinfer::version_string());
  m.attr("build_type") = std::string(pinfer::build_type());
  bind_errors(m);
  bind_model(m);
  bind_service(m);
  bind_tools(m);
  m.def("builtin_models", &pinfer::nn::builtin_model_names,
        "Names of the built-in networks (random weights), e.g. 'resnet18:cifar10'.");
}
