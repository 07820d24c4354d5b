// SPDX-License-Identifier: MIT
// prkl.Error is the root of every exception; InvalidArgument is also a ValueError, NotFound also
// a LookupError, so plain Python code that catches those keeps working. No C++ exception reaches
// Python as a bare RuntimeError.

#include <prkl/error.hpp>

#include <cstring>

#include "bindings.hpp"

namespace prkl::python {

namespace {

PyObject* new_exception(py::module_& m, const char* name, py::tuple bases, const char* doc) {
  const std::string qualified = std::string("prkl.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (!type) throw py::error_already_set();
  m.add_object(name, py::handle(type));
  return type;
}

PyObject* error_type;
PyObject* invalid_argument_type;
PyObject* batch_conflict_type;
PyObject* not_found_type;
PyObject* validation_error_type;
PyObject* storage_error_type;
PyObject* connection_lost_type;
PyObject* in_doubt_type;
PyObject* busy_type;
PyObject* answer_too_large_type;

// Raises `type` with the message, and the backend's code as `.code`.
void raise_storage_error(PyObject* type, const StorageError& e) {
  py::object instance =
      py::reinterpret_steal<py::object>(PyObject_CallFunction(type, "s", e.what()));
  if (!instance) throw py::error_already_set();
  instance.attr("code") = e.code();
  PyErr_SetObject(type, instance.ptr());
}

// prkl's messages are valid UTF-8 (values go through quoted_value()); anything that slips
// through anyway is shown escaped rather than turned into a UnicodeDecodeError.
py::str message_of(const std::exception& e) {
  const char* what = e.what();
  PyObject* text = PyUnicode_DecodeUTF8(what, Py_ssize_t(std::strlen(what)), "backslashreplace");
  if (!text) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(text);
}

void raise(PyObject* type, const std::exception& e) {
  PyErr_SetObject(type, message_of(e).ptr());
}

// Raises the Python exception of prkl's error type; anything else passes through unchanged.
void translate(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const ValidationFailed& e) {
    py::list errors;
    for (const auto& row_error : e.errors()) errors.append(py::cast(row_error));
    py::object instance = py::reinterpret_steal<py::object>(
        PyObject_CallFunction(validation_error_type, "O", message_of(e).ptr()));
    if (!instance) throw py::error_already_set();
    instance.attr("errors") = errors;
    PyErr_SetObject(validation_error_type, instance.ptr());
  } catch (const BatchConflict& e) {
    raise(batch_conflict_type, e);
  } catch (const AnswerTooLarge& e) {
    raise(answer_too_large_type, e);
  } catch (const InvalidArgument& e) {
    raise(invalid_argument_type, e);
  } catch (const NotFound& e) {
    raise(not_found_type, e);
  } catch (const ConnectionLost& e) {
    raise_storage_error(connection_lost_type, e);
  } catch (const InDoubt& e) {
    raise_storage_error(in_doubt_type, e);
  } catch (const Busy& e) {
    raise_storage_error(busy_type, e);
  } catch (const StorageError& e) {
    raise_storage_error(storage_error_type, e);
  } catch (const Error& e) {
    raise(error_type, e);
  } catch (const py::error_already_set&) {
    throw;  // a Python exception on its way back out
  } catch (const py::builtin_exception&) {
    throw;  // pybind11's own argument errors keep their Python types
  } catch (const std::bad_alloc&) {
    throw;  // MemoryError
  } catch (const std::exception& e) {
    raise(error_type, e);
  }
}

}  // namespace

void bind_errors(py::module_& m) {
  const auto base = [](PyObject* a) { return py::make_tuple(py::handle(a)); };
  const auto bases = [](PyObject* a, PyObject* b) {
    return py::make_tuple(py::handle(a), py::handle(b));
  };
  error_type = new_exception(m, "Error", base(PyExc_Exception), "Root of every prkl error.");
  invalid_argument_type =
      new_exception(m, "InvalidArgument", bases(error_type, PyExc_ValueError),
                    "A value is malformed or out of range; the message names it.");
  answer_too_large_type = new_exception(
      m, "AnswerTooLarge", base(invalid_argument_type),
      "The answer would hold more values than max_answer_values allows; nothing was read.");
  batch_conflict_type = new_exception(m, "BatchConflict", base(invalid_argument_type),
                                      "A batch id was applied before with different rows.");
  not_found_type = new_exception(m, "NotFound", bases(error_type, PyExc_LookupError),
                                 "A port, region or database does not exist.");
  validation_error_type = new_exception(
      m, "ValidationError", base(error_type),
      "Rows are bad; .errors lists every one (row, field, message). Nothing was written.");
  storage_error_type = new_exception(
      m, "StorageError", base(error_type),
      "The storage backend failed. .code is the backend's code (PostgreSQL's SQLSTATE, SQLite's "
      "extended result code in decimal), '' when it gave none.");
  connection_lost_type = new_exception(
      m, "ConnectionLost", base(storage_error_type),
      "The connection to the server was lost, or could not be made, before anything was "
      "committed: nothing was written, and asking again is safe.");
  in_doubt_type = new_exception(
      m, "InDoubt", base(storage_error_type),
      "The connection was lost while a write was committing: it may or may not have landed. "
      "Apply a batch again with the same batch_id.");
  busy_type = new_exception(
      m, "Busy", base(storage_error_type),
      "The data changed under a read every time it tried (writers adding lanes it covers): "
      "nothing was answered. Asking again after a moment is safe.");
  // Set on the class too, so a StorageError raised from Python code has one.
  py::handle(storage_error_type).attr("code") = "";

  py::register_exception_translator(&translate);
}

}  // namespace prkl::python
