#pragma once
// Owning buffer for secret material (keys, labels, seeds, shares): wiped with sodium_memzero on
// destruction, on every return and exception path. Move-only; copies are an explicit clone().
#include <cstddef>
#include <memory>
#include <span>
#include <type_traits>

namespace pinfer {

// Wipes `bytes` bytes at `p` in a way the compiler cannot elide.
void secure_wipe(void* p, std::size_t bytes) noexcept;

template <typename T>
class SecretBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "SecretBuffer holds plain data");

 public:
  SecretBuffer() = default;
  // Zero-initialised buffer of n elements.
  explicit SecretBuffer(std::size_t n) : data_(n ? new T[n]() : nullptr), size_(n) {}
  ~SecretBuffer() { reset(); }

  SecretBuffer(SecretBuffer&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  SecretBuffer& operator=(SecretBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = o.data_;
      size_ = o.size_;
      o.data_ = nullptr;
      o.size_ = 0;
    }
    return *this;
  }
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;

  [[nodiscard]] SecretBuffer clone() const {
    SecretBuffer copy(size_);
    for (std::size_t i = 0; i < size_; ++i) copy.data_[i] = data_[i];
    return copy;
  }

  void reset() noexcept {
    if (data_ != nullptr) {
      secure_wipe(data_, size_ * sizeof(T));
      delete[] data_;
    }
    data_ = nullptr;
    size_ = 0;
  }

  [[nodiscard]] T* data() noexcept { return data_; }
  [[nodiscard]] const T* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  [[nodiscard]] std::span<T> span() noexcept { return {data_, size_}; }
  [[nodiscard]] std::span<const T> span() const noexcept { return {data_, size_}; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace pinfer
