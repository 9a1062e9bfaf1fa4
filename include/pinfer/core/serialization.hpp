#pragma once
// Little-endian binary encoding with explicit sizes. ByteReader checks every read against the
// bytes that remain and every length against a caller-given cap before allocating; failures
// throw FormatError naming the field.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/core/bit_packing.hpp"
#include "pinfer/core/block.hpp"

namespace pinfer {

class ByteWriter {
 public:
  void u8(uint8_t v) { put(&v, 1); }
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f64(double v);
  void block(const Block& b);
  void bytes(std::span<const std::byte> b) { put(b.data(), b.size()); }
  // u32 length, then the bytes.
  void string(std::string_view s);
  // Packs each value into `bits` bits (1..64), LSB first; the length is not written.
  void packed_bits(std::span<const uint64_t> values, unsigned bits);

  [[nodiscard]] const std::vector<std::byte>& data() const noexcept { return buf_; }
  [[nodiscard]] std::vector<std::byte> take() noexcept { return std::move(buf_); }
  [[nodiscard]] std::size_t size() const noexcept { return buf_.size(); }

 private:
  void put(const void* p, std::size_t n);
  std::vector<std::byte> buf_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> data) : data_(data) {}

  [[nodiscard]] uint8_t u8(std::string_view field);
  [[nodiscard]] uint16_t u16(std::string_view field);
  [[nodiscard]] uint32_t u32(std::string_view field);
  [[nodiscard]] uint64_t u64(std::string_view field);
  [[nodiscard]] int64_t i64(std::string_view field) { return static_cast<int64_t>(u64(field)); }
  [[nodiscard]] double f64(std::string_view field);
  [[nodiscard]] Block block(std::string_view field);
  // A view of the next n bytes.
  [[nodiscard]] std::span<const std::byte> bytes(std::size_t n, std::string_view field);
  // A u32-length-prefixed string of at most max_len bytes.
  [[nodiscard]] std::string string(std::string_view field, std::size_t max_len);
  // A u64 length, checked against max (inclusive) before anything is allocated.
  [[nodiscard]] uint64_t length(std::string_view field, uint64_t max);
  // Reads `out.size()` values of `bits` bits each (inverse of ByteWriter::packed_bits).
  void packed_bits(std::span<uint64_t> out, unsigned bits, std::string_view field);
  // A u32 that must equal `expected` (magic numbers, versions).
  void expect_u32(uint32_t expected, std::string_view field);

  [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }
  // Throws FormatError if bytes are left over.
  void expect_end(std::string_view what) const;

 private:
  const std::byte* take(std::size_t n, std::string_view field);
  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
};

}  // namespace pinfer
