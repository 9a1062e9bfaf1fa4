#include "onnx_tensor.hpp"

#include <cstring>

#include "pinfer/core/checked_math.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::nn::detail {

Constant decode_onnx_tensor(const onnx::TensorProto& t, const std::string& what,
                            std::size_t max_elements) {
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
    throw Unsupported(what + ": external tensor data is not supported");
  }
  Constant c;
  uint64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) throw FormatError(what + ": negative dimension " + std::to_string(d));
    c.dims.push_back(static_cast<std::size_t>(d));
    n = checked_mul(n, static_cast<uint64_t>(d), what + " element count");
  }
  if (n > max_elements) {
    throw FormatError(what + ": " + std::to_string(n) + " elements exceed max_tensor_elements " +
                      std::to_string(max_elements));
  }
  const std::string& raw = t.raw_data();
  if (t.data_type() == onnx::TensorProto_DataType_FLOAT) {
    c.is_float = true;
    if (t.has_raw_data()) {
      if (raw.size() != n * 4) {
        throw FormatError(what + ": raw_data has " + std::to_string(raw.size()) +
                          " bytes, dims need " + std::to_string(n * 4));
      }
      c.floats.resize(n);
      std::memcpy(c.floats.data(), raw.data(), raw.size());  // little endian (x86-64)
    } else {
      if (static_cast<uint64_t>(t.float_data_size()) != n) {
        throw FormatError(what + ": float_data has " + std::to_string(t.float_data_size()) +
                          " values, dims need " + std::to_string(n));
      }
      c.floats.assign(t.float_data().begin(), t.float_data().end());
    }
  } else if (t.data_type() == onnx::TensorProto_DataType_INT64) {
    if (t.has_raw_data()) {
      if (raw.size() != n * 8) {
        throw FormatError(what + ": raw_data has " + std::to_string(raw.size()) +
                          " bytes, dims need " + std::to_string(n * 8));
      }
      c.ints.resize(n);
      std::memcpy(c.ints.data(), raw.data(), raw.size());
    } else {
      if (static_cast<uint64_t>(t.int64_data_size()) != n) {
        throw FormatError(what + ": int64_data has " + std::to_string(t.int64_data_size()) +
                          " values, dims need " + std::to_string(n));
      }
      c.ints.assign(t.int64_data().begin(), t.int64_data().end());
    }
  } else {
    throw Unsupported(what + ": tensor data type " + std::to_string(t.data_type()) +
                      " (only float32 and int64 are supported)");
  }
  return c;
}

}  // namespace pinfer::nn::detail
