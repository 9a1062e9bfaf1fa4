#include "pinfer/core/tensor.hpp"

#include "pinfer/core/checked_math.hpp"

namespace pinfer {

std::size_t Shape::numel() const {
  uint64_t n = 1;
  for (std::size_t d : dims_) {
    if (__builtin_mul_overflow(n, d, &n)) {
      throw InvalidArgument("shape element count overflows");
    }
  }
  return n;
}

std::string Shape::to_string() const {
  std::string s;
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(dims_[i]);
  }
  return s.empty() ? "scalar" : s;
}

namespace {
void check_same_shape(const RingTensor& a, const RingTensor& b) {
  if (!(a.shape() == b.shape())) {
    throw InvalidArgument("tensor shapes differ: " + a.shape().to_string() + " vs " +
                          b.shape().to_string());
  }
}
}  // namespace

void add_inplace(const Ring& ring, RingTensor& a, const RingTensor& b) {
  check_same_shape(a, b);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = ring.add(a[i], b[i]);
}

void sub_inplace(const Ring& ring, RingTensor& a, const RingTensor& b) {
  check_same_shape(a, b);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = ring.sub(a[i], b[i]);
}

RingTensor add(const Ring& ring, const RingTensor& a, const RingTensor& b) {
  RingTensor r = a;
  add_inplace(ring, r, b);
  return r;
}

RingTensor sub(const Ring& ring, const RingTensor& a, const RingTensor& b) {
  RingTensor r = a;
  sub_inplace(ring, r, b);
  return r;
}

}  // namespace pinfer
