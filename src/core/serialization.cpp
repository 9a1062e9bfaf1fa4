#include "pinfer/core/serialization.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "pinfer/core/bit_packing.hpp"
#include "pinfer/core/checked_math.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer {

static_assert(std::endian::native == std::endian::little, "pinfer assumes a little-endian host");

void ByteWriter::put(const void* p, std::size_t n) {
  const auto* b = static_cast<const std::byte*>(p);
  buf_.insert(buf_.end(), b, b + n);
}
void ByteWriter::u16(uint16_t v) {
  put(&v, 2);
}
void ByteWriter::u32(uint32_t v) {
  put(&v, 4);
}
void ByteWriter::u64(uint64_t v) {
  put(&v, 8);
}
void ByteWriter::f64(double v) {
  put(&v, 8);
}
void ByteWriter::block(const Block& b) {
  put(&b, 16);
}
void ByteWriter::string(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  put(s.data(), s.size());
}

void ByteWriter::packed_bits(std::span<const uint64_t> values, unsigned bits) {
  PINFER_ASSERT(bits >= 1 && bits <= 64);
  const std::size_t start = buf_.size();
  const std::size_t total = packed_size_bytes(values.size(), bits);
  buf_.resize(start + total);
  pack_values(values, bits, std::span(buf_).subspan(start, total));
}

const std::byte* ByteReader::take(std::size_t n, std::string_view field) {
  if (n > remaining()) {
    throw FormatError("truncated input: field '" + std::string(field) + "' needs " +
                      std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left");
  }
  const std::byte* p = data_.data() + pos_;
  pos_ += n;
  return p;
}

uint8_t ByteReader::u8(std::string_view f) {
  return static_cast<uint8_t>(*take(1, f));
}
uint16_t ByteReader::u16(std::string_view f) {
  uint16_t v;
  std::memcpy(&v, take(2, f), 2);
  return v;
}
uint32_t ByteReader::u32(std::string_view f) {
  uint32_t v;
  std::memcpy(&v, take(4, f), 4);
  return v;
}
uint64_t ByteReader::u64(std::string_view f) {
  uint64_t v;
  std::memcpy(&v, take(8, f), 8);
  return v;
}
double ByteReader::f64(std::string_view f) {
  double v;
  std::memcpy(&v, take(8, f), 8);
  return v;
}
Block ByteReader::block(std::string_view f) {
  Block b;
  std::memcpy(&b, take(16, f), 16);
  return b;
}
std::span<const std::byte> ByteReader::bytes(std::size_t n, std::string_view f) {
  return {take(n, f), n};
}
std::string ByteReader::string(std::string_view f, std::size_t max_len) {
  const uint32_t n = u32(f);
  if (n > max_len) {
    throw FormatError("field '" + std::string(f) + "' length " + std::to_string(n) +
                      " exceeds limit " + std::to_string(max_len));
  }
  const std::byte* p = take(n, f);
  return std::string(reinterpret_cast<const char*>(p), n);
}
uint64_t ByteReader::length(std::string_view f, uint64_t max) {
  const uint64_t n = u64(f);
  if (n > max) {
    throw FormatError("field '" + std::string(f) + "' length " + std::to_string(n) +
                      " exceeds limit " + std::to_string(max));
  }
  return n;
}
void ByteReader::expect_u32(uint32_t expected, std::string_view f) {
  const uint32_t v = u32(f);
  if (v != expected) {
    throw FormatError("field '" + std::string(f) + "' is " + std::to_string(v) + ", expected " +
                      std::to_string(expected));
  }
}
void ByteReader::packed_bits(std::span<uint64_t> out, unsigned bits, std::string_view f) {
  PINFER_ASSERT(bits >= 1 && bits <= 64);
  const std::size_t total = packed_size_bytes(out.size(), bits);
  unpack_values(std::span(take(total, f), total), bits, out);
}
void ByteReader::expect_end(std::string_view what) const {
  if (remaining() != 0) {
    throw FormatError(std::string(what) + " has " + std::to_string(remaining()) +
                      " unexpected trailing bytes");
  }
}

}  // namespace pinfer
