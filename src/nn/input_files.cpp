#include "pinfer/nn/input_files.hpp"

#include <cctype>
#include <cstring>
#include <string>

#include <png.h>

#include "pinfer/core/capped_read.hpp"
#include "pinfer/core/checked_math.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::nn {

namespace {

std::vector<char> read_all(const std::filesystem::path& path, std::size_t max_bytes) {
  const SecretBuffer<std::byte> raw = read_file_capped(path, max_bytes);
  const auto* begin = reinterpret_cast<const char*>(raw.data());
  return std::vector<char>(begin, begin + raw.size());
}

struct NpyArray {
  std::string descr;
  std::vector<std::size_t> shape;
  const char* data = nullptr;
  std::size_t data_bytes = 0;
};

// Value of `'key': value` in the header dict (up to the next ',' outside parentheses).
std::string header_field(const std::string& header, const std::string& key,
                         const std::string& file) {
  const std::size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) throw FormatError(file + ": npy header has no '" + key + "'");
  std::size_t p = header.find(':', k);
  if (p == std::string::npos)
    throw FormatError(file + ": npy header field '" + key + "' malformed");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  std::size_t e = p;
  int depth = 0;
  while (e < header.size() && (depth > 0 || (header[e] != ',' && header[e] != '}'))) {
    if (header[e] == '(') ++depth;
    if (header[e] == ')') --depth;
    ++e;
  }
  return header.substr(p, e - p);
}

NpyArray parse_npy(const std::vector<char>& bytes, const std::string& file,
                   std::size_t max_elements) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) {
    throw FormatError(file + " is not a .npy file (bad magic)");
  }
  const unsigned major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw FormatError(file + ": truncated npy header");
    uint32_t v = 0;
    std::memcpy(&v, bytes.data() + 8, 4);
    header_len = v;
    offset = 12;
  } else {
    throw FormatError(file + ": npy version " + std::to_string(major) + " is not supported");
  }
  if (header_len > bytes.size() - offset) {
    throw FormatError(file + ": npy header length " + std::to_string(header_len) +
                      " exceeds the file");
  }
  const std::string header(bytes.data() + offset, header_len);
  NpyArray a;
  a.descr = header_field(header, "descr", file);
  if (header_field(header, "fortran_order", file) != "False") {
    throw FormatError(file + ": Fortran-order npy arrays are not supported");
  }
  const std::string shape = header_field(header, "shape", file);
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')') {
    throw FormatError(file + ": npy shape " + shape + " is malformed");
  }
  uint64_t n = 1;
  std::size_t p = 1;
  while (p + 1 < shape.size()) {
    while (p + 1 < shape.size() && (shape[p] == ' ' || shape[p] == ',')) ++p;
    if (p + 1 >= shape.size()) break;
    std::size_t e = p;
    uint64_t d = 0;
    while (e + 1 < shape.size() && shape[e] >= '0' && shape[e] <= '9') {
      d = checked_add(checked_mul(d, 10, "npy dimension"), static_cast<uint64_t>(shape[e] - '0'),
                      "npy dimension");
      ++e;
    }
    if (e == p) throw FormatError(file + ": npy shape " + shape + " is malformed");
    a.shape.push_back(static_cast<std::size_t>(d));
    n = checked_mul(n, d, "npy element count");
    p = e;
  }
  if (a.shape.empty() || a.shape.size() > 6) {
    throw FormatError(file + ": npy rank " + std::to_string(a.shape.size()) + " outside 1..6");
  }
  if (n > max_elements) {
    throw FormatError(file + ": " + std::to_string(n) + " elements exceed the cap " +
                      std::to_string(max_elements));
  }
  a.data = bytes.data() + offset + header_len;
  a.data_bytes = bytes.size() - offset - header_len;
  return a;
}

std::size_t numel(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

void check_data(const NpyArray& a, std::size_t item, const std::string& file) {
  if (a.data_bytes != numel(a.shape) * item) {
    throw FormatError(file + ": npy data has " + std::to_string(a.data_bytes) + " bytes, shape " +
                      "needs " + std::to_string(numel(a.shape) * item));
  }
}

}  // namespace

FloatTensor read_npy_float(const std::filesystem::path& path, std::size_t max_elements) {
  const std::vector<char> bytes = read_all(path, max_elements * 4 + 65536);
  const NpyArray a = parse_npy(bytes, path.string(), max_elements);
  if (a.descr != "'<f4'") {
    throw FormatError(path.string() + ": npy dtype " + a.descr + " is not float32 ('<f4')");
  }
  check_data(a, 4, path.string());
  std::vector<float> v(numel(a.shape));
  // An empty array (a zero dimension) has no data pointer to copy to (memcpy(nullptr) is UB).
  if (a.data_bytes != 0) std::memcpy(v.data(), a.data, a.data_bytes);
  return FloatTensor(Shape(a.shape), std::move(v));
}

std::vector<int64_t> read_npy_int(const std::filesystem::path& path, std::size_t max_elements) {
  const std::vector<char> bytes = read_all(path, max_elements * 8 + 65536);
  const NpyArray a = parse_npy(bytes, path.string(), max_elements);
  if (a.descr != "'<i8'" && a.descr != "'<i4'") {
    throw FormatError(path.string() + ": npy dtype " + a.descr + " is not int64 or int32");
  }
  const std::size_t item = a.descr == "'<i8'" ? 8 : 4;
  // The data must be present before the vector is sized from the header's shape.
  check_data(a, item, path.string());
  std::vector<int64_t> v(numel(a.shape));
  if (item == 8) {
    if (a.data_bytes != 0) std::memcpy(v.data(), a.data, a.data_bytes);
  } else {
    for (std::size_t i = 0; i < v.size(); ++i) {
      int32_t x = 0;
      std::memcpy(&x, a.data + 4 * i, 4);
      v[i] = x;
    }
  }
  return v;
}

FloatTensor read_pgm(const std::filesystem::path& path, std::size_t max_elements) {
  const std::vector<char> bytes = read_all(path, max_elements * 2 + 4096);
  const std::string file = path.string();
  std::size_t p = 0;
  // Header tokens: magic, width, height, maxval; '#' starts a comment to the end of the line.
  auto token = [&]() -> std::string {
    for (;;) {
      while (p < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[p]))) ++p;
      if (p < bytes.size() && bytes[p] == '#') {
        while (p < bytes.size() && bytes[p] != '\n') ++p;
        continue;
      }
      break;
    }
    const std::size_t s = p;
    while (p < bytes.size() && !std::isspace(static_cast<unsigned char>(bytes[p]))) ++p;
    return std::string(bytes.data() + s, p - s);
  };
  auto number = [&](const char* field, uint64_t max) {
    const std::string t = token();
    if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos) {
      throw FormatError(file + ": PGM " + field + " '" + t + "' is not a number");
    }
    const uint64_t v = std::stoull(t);
    if (v == 0 || v > max) {
      throw FormatError(file + ": PGM " + field + " " + t + " outside 1.." + std::to_string(max));
    }
    return v;
  };
  if (token() != "P5") throw FormatError(file + " is not a binary PGM (P5) image");
  const uint64_t w = number("width", 1 << 16), h = number("height", 1 << 16);
  const uint64_t maxval = number("maxval", 65535);
  if (checked_mul(w, h, "PGM pixel count") > max_elements) {
    throw FormatError(file + ": PGM " + std::to_string(w) + "x" + std::to_string(h) +
                      " exceeds the cap " + std::to_string(max_elements));
  }
  ++p;  // the single whitespace after maxval
  const std::size_t item = maxval < 256 ? 1 : 2;
  if (p > bytes.size() || bytes.size() - p != w * h * item) {
    throw FormatError(file + ": PGM pixel data has " +
                      std::to_string(p > bytes.size() ? 0 : bytes.size() - p) +
                      " bytes, expected " + std::to_string(w * h * item));
  }
  FloatTensor t(Shape{1, 1, h, w});
  for (std::size_t i = 0; i < w * h; ++i) {
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data() + p + i * item);
    const unsigned v = item == 1 ? b[0] : (static_cast<unsigned>(b[0]) << 8 | b[1]);  // big endian
    if (v > maxval) throw FormatError(file + ": PGM pixel " + std::to_string(v) + " > maxval");
    t[i] = static_cast<float>(v) / static_cast<float>(maxval);
  }
  return t;
}

FloatTensor read_png(const std::filesystem::path& path, std::size_t channels,
                     std::size_t max_elements) {
  const std::string file = path.string();
  if (channels != 1 && channels != 3) {
    throw InvalidArgument("PNG input needs 1 or 3 channels, the model has " +
                          std::to_string(channels));
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  // Frees libpng's state on every path, including exceptions.
  struct Guard {
    png_image* i;
    ~Guard() { png_image_free(i); }
  } guard{&image};
  if (!png_image_begin_read_from_file(&image, file.c_str())) {
    throw FormatError(file + ": not a readable PNG (" + image.message + ")");
  }
  if (checked_mul(checked_mul(image.width, image.height, "PNG pixel count"), channels,
                  "PNG element count") > max_elements) {
    throw FormatError(file + ": PNG " + std::to_string(image.width) + "x" +
                      std::to_string(image.height) + " exceeds the cap " +
                      std::to_string(max_elements));
  }
  // libpng converts any colour type / bit depth to 8-bit grey or RGB (alpha composited on black).
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  std::vector<unsigned char> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) {
    throw FormatError(file + ": PNG decoding failed (" + image.message + ")");
  }
  const std::size_t h = image.height, w = image.width;
  FloatTensor t(Shape{1, channels, h, w});
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t x = 0; x < w; ++x) {
      for (std::size_t c = 0; c < channels; ++c) {  // interleaved -> NCHW
        t.at(0, c, y, x) = static_cast<float>(pixels[(y * w + x) * channels + c]) / 255.0f;
      }
    }
  }
  return t;
}

FloatTensor load_input_file(const std::filesystem::path& path, const Shape& expected) {
  const std::string ext = path.extension().string();
  // The model's input size caps the decode (not just kMaxInputElements): a file or image that is
  // larger is refused before its pixels are read or inflated.
  const std::size_t cap = expected.numel();
  FloatTensor t;
  if (ext == ".npy") {
    t = read_npy_float(path, cap);
  } else if (ext == ".pgm") {
    t = read_pgm(path, cap);
  } else if (ext == ".png") {
    t = read_png(path, expected.rank() == 4 ? expected[1] : 0, cap);
  } else {
    throw InvalidArgument("input file " + path.string() +
                          ": unknown extension (expected .npy float32 NCHW, .pgm or .png)");
  }
  if (t.size() != expected.numel()) {
    throw InvalidArgument("input " + path.string() + " has shape " + t.shape().to_string() +
                          ", the model expects " + expected.to_string());
  }
  t.reshape_inplace(expected);
  return t;
}

std::vector<FloatTensor> split_batch(const FloatTensor& batch) {
  const Shape& s = batch.shape();
  if (s.rank() != 4 || s[0] == 0) {
    throw InvalidArgument("batch shape " + s.to_string() + " is not N x C x H x W");
  }
  const std::size_t per = s[1] * s[2] * s[3];
  std::vector<FloatTensor> out;
  for (std::size_t i = 0; i < s[0]; ++i) {
    out.emplace_back(Shape{1, s[1], s[2], s[3]},
                     std::vector<float>(batch.values().begin() + i * per,
                                        batch.values().begin() + (i + 1) * per));
  }
  return out;
}

}  // namespace pinfer::nn
