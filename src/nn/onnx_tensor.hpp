#pragma once
// Decoding ONNX TensorProto constants (initializers, Constant nodes) with size caps.
#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pinfer::nn::detail {

// A constant tensor (initializer or Constant node output), decoded.
struct Constant {
  std::vector<std::size_t> dims;
  std::vector<float> floats;  // FLOAT tensors
  std::vector<int64_t> ints;  // INT64 tensors
  bool is_float = false;
};

// Decodes float32 or int64 data (raw_data or the typed field). Throws FormatError on a size
// mismatch or more than max_elements, Unsupported on external data or another data type.
[[nodiscard]] Constant decode_onnx_tensor(const onnx::TensorProto& t, const std::string& what,
                                          std::size_t max_elements);

}  // namespace pinfer::nn::detail
