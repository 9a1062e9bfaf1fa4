// One Python exception class per pinfer error kind (include/pinfer/core/error.hpp), all
// subclasses of pinfer.Error; the library's message is kept as the exception's text.
#include "bindings.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::python {

void bind_errors(py::module_& m) {
  // Registered base first: pybind11 tries translators newest first, so subclasses win.
  py::exception<Error>& error = py::register_exception<Error>(m, "Error");
  error.doc() = "Base of every pinfer error.";
  const py::object kinds[] = {
      py::register_exception<InvalidArgument>(m, "InvalidArgument", error.ptr()),
      py::register_exception<FormatError>(m, "FormatError", error.ptr()),
      py::register_exception<ProtocolError>(m, "ProtocolError", error.ptr()),
      py::register_exception<IoError>(m, "IoError", error.ptr()),
      py::register_exception<StoreError>(m, "StoreError", error.ptr()),
      py::register_exception<Unsupported>(m, "Unsupported", error.ptr())};
  // Tracebacks name them as users import them: pinfer.IoError, not pinfer._pinfer.IoError.
  error.attr("__module__") = "pinfer";
  for (const py::object& kind : kinds) kind.attr("__module__") = "pinfer";
}

}  // namespace pinfer::python
