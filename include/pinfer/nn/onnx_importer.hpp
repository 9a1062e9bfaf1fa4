#pragma once
// ONNX import (Debian's libonnx-dev generated protobuf classes): CNNs exported by PyTorch's
// torch.onnx.export, opsets 11..17. Supported operators: Conv, BatchNormalization, Relu, MaxPool,
// AveragePool, GlobalAveragePool, Add, Flatten, Reshape (as flatten), Gemm, MatMul (+ Add of a
// constant bias), Identity, Dropout (inference), Pad with all-zero pads, Constant (as a shape or
// bias). Batch size 1; a symbolic batch dimension is taken as 1.
//
// Errors (documented in docs/MODELS.md, each has a test):
//   IoError       the file cannot be read.
//   FormatError   not a parseable ModelProto (corrupt, truncated), over a size cap, or internally
//                 inconsistent (undefined tensor name, raw data size vs dims, channel mismatch).
//   Unsupported   valid ONNX this importer does not handle: unknown operator, unsupported
//                 attribute value (dilation, groups, ceil_mode, auto_pad...), a tensor of the
//                 wrong rank for the op (e.g. a 3-D Conv weight, a 3-D network input), opset
//                 outside 11..17. Messages name the node, the op and the reason.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

#include "pinfer/nn/model.hpp"

namespace pinfer::nn {

struct OnnxLimits {
  std::size_t max_file_bytes = std::size_t{1} << 30;  // protobuf's own limit is 2 GiB
  std::size_t max_nodes = 100000;
  std::size_t max_tensor_elements = std::size_t{1} << 28;  // 1 GiB of float32
};

[[nodiscard]] Model load_onnx_file(const std::filesystem::path& path,
                                   const OnnxLimits& limits = {});
[[nodiscard]] Model load_onnx_bytes(std::span<const std::byte> bytes, std::string name,
                                    const OnnxLimits& limits = {});

}  // namespace pinfer::nn
