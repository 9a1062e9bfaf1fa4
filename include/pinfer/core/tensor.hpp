#pragma once
// Dense tensors in NCHW order (contiguous, row major). Tensor<uint64_t> holds ring elements,
// Tensor<float>/<double> plaintext activations. Shapes are public; contents may be secret.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/ring.hpp"

namespace pinfer {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<std::size_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<std::size_t> dims) : dims_(std::move(dims)) {}

  [[nodiscard]] std::size_t rank() const noexcept { return dims_.size(); }
  [[nodiscard]] std::size_t operator[](std::size_t i) const { return dims_.at(i); }
  [[nodiscard]] const std::vector<std::size_t>& dims() const noexcept { return dims_; }
  // Product of dimensions; 1 for rank 0. Throws InvalidArgument on overflow.
  [[nodiscard]] std::size_t numel() const;
  [[nodiscard]] std::string to_string() const;  // e.g. "1x3x32x32"
  bool operator==(const Shape&) const = default;

 private:
  std::vector<std::size_t> dims_;
};

template <typename T>
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape) : shape_(std::move(shape)), data_(shape_.numel()) {}
  Tensor(Shape shape, std::vector<T> data) : shape_(std::move(shape)), data_(std::move(data)) {
    if (data_.size() != shape_.numel()) {
      throw InvalidArgument("tensor data size " + std::to_string(data_.size()) +
                            " does not match shape " + shape_.to_string());
    }
  }

  [[nodiscard]] const Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t size() const noexcept { return data_.size(); }
  [[nodiscard]] std::span<T> span() noexcept { return data_; }
  [[nodiscard]] std::span<const T> span() const noexcept { return data_; }
  [[nodiscard]] T* data() noexcept { return data_.data(); }
  [[nodiscard]] const T* data() const noexcept { return data_.data(); }
  [[nodiscard]] std::vector<T>& values() noexcept { return data_; }
  [[nodiscard]] const std::vector<T>& values() const noexcept { return data_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

  // Element (n, c, h, w) of a rank-4 tensor.
  [[nodiscard]] T& at(std::size_t n, std::size_t c, std::size_t h, std::size_t w) noexcept {
    return data_[((n * shape_.dims()[1] + c) * shape_.dims()[2] + h) * shape_.dims()[3] + w];
  }
  [[nodiscard]] const T& at(std::size_t n, std::size_t c, std::size_t h,
                            std::size_t w) const noexcept {
    return data_[((n * shape_.dims()[1] + c) * shape_.dims()[2] + h) * shape_.dims()[3] + w];
  }

  // Same data, another shape with the same element count (e.g. flatten).
  void reshape_inplace(Shape shape) {
    if (shape.numel() != data_.size()) {
      throw InvalidArgument("cannot reshape " + shape_.to_string() + " to " + shape.to_string());
    }
    shape_ = std::move(shape);
  }

  bool operator==(const Tensor&) const = default;

 private:
  Shape shape_;
  std::vector<T> data_;
};

using RingTensor = Tensor<uint64_t>;
using FloatTensor = Tensor<float>;

// Elementwise ring operations; throw InvalidArgument on shape mismatch.
void add_inplace(const Ring& ring, RingTensor& a, const RingTensor& b);
void sub_inplace(const Ring& ring, RingTensor& a, const RingTensor& b);
[[nodiscard]] RingTensor add(const Ring& ring, const RingTensor& a, const RingTensor& b);
[[nodiscard]] RingTensor sub(const Ring& ring, const RingTensor& a, const RingTensor& b);

}  // namespace pinfer
