#pragma once
// Reading inputs and data sets from files (untrusted): NumPy .npy arrays (version 1-3, C order,
// little endian '<f4' float32, '<i8' / '<i4' integers), binary PGM images (P5, 8 or 16 bit) and
// PNG images (libpng).
// Every size is checked against a cap before allocating; errors are FormatError naming the field,
// IoError if the file cannot be read.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "pinfer/core/tensor.hpp"

namespace pinfer::nn {

inline constexpr std::size_t kMaxInputElements = std::size_t{1} << 28;

// A float32 array with its shape (rank 1..6).
[[nodiscard]] FloatTensor read_npy_float(const std::filesystem::path& path,
                                         std::size_t max_elements = kMaxInputElements);
// A 1-D integer array ('<i8' or '<i4'), e.g. labels.
[[nodiscard]] std::vector<int64_t> read_npy_int(const std::filesystem::path& path,
                                                std::size_t max_elements = kMaxInputElements);
// A grey-scale image as 1 x 1 x H x W, pixel / maxval in [0, 1].
[[nodiscard]] FloatTensor read_pgm(const std::filesystem::path& path,
                                   std::size_t max_elements = kMaxInputElements);

// A PNG image (any colour type / bit depth, via libpng's simplified API) converted to `channels`
// (1: grey, 3: RGB) 8-bit values, as 1 x channels x H x W, value / 255 in [0, 1].
[[nodiscard]] FloatTensor read_png(const std::filesystem::path& path, std::size_t channels,
                                   std::size_t max_elements = kMaxInputElements);

// One network input from a .npy (float32, NCHW; a leading batch of 1 may be omitted), .pgm or .png
// file (PNG converted to the model's channel count); the element count must equal expected.numel().
// Returns it shaped `expected`. Throws InvalidArgument on a size mismatch or an unknown extension.
[[nodiscard]] FloatTensor load_input_file(const std::filesystem::path& path, const Shape& expected);

// Splits an N x C x H x W array into N inputs of shape 1 x C x H x W.
[[nodiscard]] std::vector<FloatTensor> split_batch(const FloatTensor& batch);

}  // namespace pinfer::nn
