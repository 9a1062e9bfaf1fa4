// One Python exception class per pinfer error kind (include/pinfer/core/error.hpp), all
// subclasses of pinfer.Error; the library's message is kept as the exception's text and its
// ErrorReason as the exception's `reason` attribute ("store", "server busy", ...), so Python
// callers never have to match message text either.
#include "bindings.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::python {
namespace {

// The registered classes, kept for the process's lifetime (never released: exceptions may be
// raised until the interpreter is gone).
struct ErrorClasses {
  PyObject* base = nullptr;
  PyObject* invalid_argument = nullptr;
  PyObject* format = nullptr;
  PyObject* protocol = nullptr;
  PyObject* io = nullptr;
  PyObject* store = nullptr;
  PyObject* unsupported = nullptr;
  PyObject* server_busy = nullptr;
};
ErrorClasses g_classes;

PyObject* class_of(const Error& e) {
  if (dynamic_cast<const ServerBusyError*>(&e) != nullptr) return g_classes.server_busy;
  if (dynamic_cast<const InvalidArgument*>(&e) != nullptr) return g_classes.invalid_argument;
  if (dynamic_cast<const FormatError*>(&e) != nullptr) return g_classes.format;
  if (dynamic_cast<const ProtocolError*>(&e) != nullptr) return g_classes.protocol;
  if (dynamic_cast<const IoError*>(&e) != nullptr) return g_classes.io;
  if (dynamic_cast<const StoreError*>(&e) != nullptr) return g_classes.store;
  if (dynamic_cast<const Unsupported*>(&e) != nullptr) return g_classes.unsupported;
  return g_classes.base;
}

}  // namespace

void bind_errors(py::module_& m) {
  py::exception<Error>& error = py::register_exception<Error>(m, "Error");
  error.doc() = "Base of every pinfer error; `reason` names why (pinfer::ErrorReason).";
  const py::object kinds[] = {
      py::register_exception<InvalidArgument>(m, "InvalidArgument", error.ptr()),
      py::register_exception<FormatError>(m, "FormatError", error.ptr()),
      py::register_exception<ProtocolError>(m, "ProtocolError", error.ptr()),
      py::register_exception<IoError>(m, "IoError", error.ptr()),
      py::register_exception<StoreError>(m, "StoreError", error.ptr()),
      py::register_exception<Unsupported>(m, "Unsupported", error.ptr())};
  // A full admission queue: a ProtocolError with the server's hint in `retry_after_ms`.
  const py::object busy =
      py::register_exception<ServerBusyError>(m, "ServerBusyError", kinds[2].ptr());
  // Tracebacks name them as users import them: pinfer.IoError, not pinfer._pinfer.IoError.
  error.attr("__module__") = "pinfer";
  for (const py::object& kind : kinds) kind.attr("__module__") = "pinfer";
  busy.attr("__module__") = "pinfer";
  Py_INCREF(busy.ptr());
  PyObject* const classes[] = {error.ptr(),    kinds[0].ptr(), kinds[1].ptr(), kinds[2].ptr(),
                               kinds[3].ptr(), kinds[4].ptr(), kinds[5].ptr()};
  for (PyObject* c : classes) Py_INCREF(c);
  g_classes = {classes[0], classes[1], classes[2], classes[3],
               classes[4], classes[5], classes[6], busy.ptr()};
  // Registered last, so tried first (pybind11 tries translators newest first): raises the
  // class of the error with its message and its reason.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyObject* cls = class_of(e);
      PyObject* exc = PyObject_CallFunction(cls, "s", e.what());
      if (exc == nullptr) return;  // the call raised (e.g. out of memory): keep that error
      const std::string_view reason = to_string(e.reason());
      PyObject* text =
          PyUnicode_FromStringAndSize(reason.data(), static_cast<Py_ssize_t>(reason.size()));
      if (text != nullptr) {
        (void)PyObject_SetAttrString(exc, "reason", text);
        Py_DECREF(text);
      }
      if (const auto* busy = dynamic_cast<const ServerBusyError*>(&e); busy != nullptr) {
        PyObject* after = PyLong_FromUnsignedLongLong(busy->retry_after_ms());
        if (after != nullptr) {
          (void)PyObject_SetAttrString(exc, "retry_after_ms", after);
          Py_DECREF(after);
        }
      }
      PyErr_SetObject(cls, exc);
      Py_DECREF(exc);
    }
  });
}

}  // namespace pinfer::python
