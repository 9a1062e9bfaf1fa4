#include "pinfer/nn/input_files.hpp"

#include <gtest/gtest.h>
#include <png.h>

#include <cstring>
#include <fstream>

#include "pinfer/core/error.hpp"

namespace pinfer::nn {
namespace {

std::string temp_path(const std::string& name) {
  return std::string(PINFER_BINARY_DIR) + "/nn_input_files_test_" + name;
}

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string npy(const std::string& descr, const std::string& shape, const std::string& data) {
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

std::string floats(std::vector<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

TEST(InputFiles, ReadsNpyFloatAndInt) {
  write(temp_path("a.npy"), npy("<f4", "(1, 1, 2, 2)", floats({1, 2, 3, 4.5f})));
  const FloatTensor t = read_npy_float(temp_path("a.npy"));
  EXPECT_EQ(t.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(t.values(), (std::vector<float>{1, 2, 3, 4.5f}));
  const FloatTensor in = load_input_file(temp_path("a.npy"), Shape{1, 1, 2, 2});
  EXPECT_EQ(in.values(), t.values());
  EXPECT_THROW((void)load_input_file(temp_path("a.npy"), Shape{1, 1, 3, 3}), InvalidArgument);

  std::string labels(16, '\0');
  const int64_t l[2] = {7, -1};
  std::memcpy(labels.data(), l, 16);
  write(temp_path("l.npy"), npy("<i8", "(2,)", labels));
  EXPECT_EQ(read_npy_int(temp_path("l.npy")), (std::vector<int64_t>{7, -1}));
}

TEST(InputFiles, MalformedNpyIsFormatError) {
  write(temp_path("bad_magic.npy"), "NOTNUMPY........");
  EXPECT_THROW((void)read_npy_float(temp_path("bad_magic.npy")), FormatError);
  write(temp_path("f8.npy"), npy("<f8", "(2,)", std::string(16, '\0')));
  EXPECT_THROW((void)read_npy_float(temp_path("f8.npy")), FormatError);
  write(temp_path("short.npy"), npy("<f4", "(1, 1, 2, 2)", floats({1, 2, 3})));
  EXPECT_THROW((void)read_npy_float(temp_path("short.npy")), FormatError);
  write(temp_path("huge.npy"), npy("<f4", "(100000, 100000, 100000)", ""));
  EXPECT_THROW((void)read_npy_float(temp_path("huge.npy")), FormatError);
  EXPECT_THROW((void)read_npy_float(temp_path("missing.npy")), IoError);
}

TEST(InputFiles, ReadsPgmAndRejectsMalformedOnes) {
  write(temp_path("a.pgm"),
        std::string("P5\n# comment\n2 2\n255\n") + std::string("\x00\x80\xff\x40", 4));
  const FloatTensor t = read_pgm(temp_path("a.pgm"));
  EXPECT_EQ(t.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_FLOAT_EQ(t[0], 0.0f);
  EXPECT_FLOAT_EQ(t[1], 128.0f / 255);
  EXPECT_FLOAT_EQ(t[2], 1.0f);
  write(temp_path("short.pgm"), std::string("P5\n2 2\n255\n") + std::string("\x00\x80\xff", 3));
  EXPECT_THROW((void)read_pgm(temp_path("short.pgm")), FormatError);
  write(temp_path("p2.pgm"), "P2\n2 2\n255\n0 1 2 3\n");
  EXPECT_THROW((void)read_pgm(temp_path("p2.pgm")), FormatError);
  write(temp_path("big.pgm"), "P5\n70000 2\n255\n");
  EXPECT_THROW((void)read_pgm(temp_path("big.pgm")), FormatError);
}

TEST(InputFiles, ReadsPngAsRgbOrGrey) {
  // A 3 x 2 RGB image written with libpng's simplified API.
  const unsigned char rgb[2][3][3] = {{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}},
                                      {{0, 0, 0}, {255, 255, 255}, {51, 102, 204}}};
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = 3;
  image.height = 2;
  image.format = PNG_FORMAT_RGB;
  ASSERT_TRUE(png_image_write_to_file(&image, temp_path("a.png").c_str(), 0, rgb, 0, nullptr));
  const FloatTensor t = load_input_file(temp_path("a.png"), Shape{1, 3, 2, 3});
  EXPECT_FLOAT_EQ(t.at(0, 0, 0, 0), 1.0f);  // red channel of the red pixel
  EXPECT_FLOAT_EQ(t.at(0, 1, 0, 0), 0.0f);
  EXPECT_FLOAT_EQ(t.at(0, 1, 0, 1), 1.0f);  // green pixel
  EXPECT_FLOAT_EQ(t.at(0, 2, 1, 2), 204.0f / 255);
  const FloatTensor g = load_input_file(temp_path("a.png"), Shape{1, 1, 2, 3});
  EXPECT_FLOAT_EQ(g.at(0, 0, 1, 0), 0.0f);  // black stays black, white stays white
  EXPECT_FLOAT_EQ(g.at(0, 0, 1, 1), 1.0f);
  EXPECT_THROW((void)load_input_file(temp_path("a.png"), Shape{1, 3, 3, 3}), InvalidArgument);
  write(temp_path("bad.png"), "\x89PNG\r\n\x1a\nnot really a png");
  EXPECT_THROW((void)read_png(temp_path("bad.png"), 3), FormatError);
}

// Found by fuzzing (docs/perf/fuzz.md): an array with a zero dimension memcpy'd into a null
// vector pointer (undefined behaviour, reported by UBSan).
TEST(InputFiles, EmptyNpyArraysDecodeToNothing) {
  write(temp_path("empty_i8.npy"), npy("<i8", "(0,)", ""));
  EXPECT_TRUE(read_npy_int(temp_path("empty_i8.npy")).empty());
  write(temp_path("empty_f4.npy"), npy("<f4", "(2, 0)", ""));
  EXPECT_EQ(read_npy_float(temp_path("empty_f4.npy")).size(), 0u);
}

// Found by fuzzing (docs/perf/fuzz.md): read_npy_int sized its vector from the header's shape
// before checking the dtype and that the data is there, so a 200-byte file could allocate GiBs.
// The allocation order itself is guarded by pinfer_fuzz_input_files (-malloc_limit_mb); this
// checks the rejection.
TEST(InputFiles, NpyIntWithoutItsDataIsFormatError) {
  write(temp_path("huge.npy"), npy("<i8", "(100000000,)", ""));
  EXPECT_THROW((void)read_npy_int(temp_path("huge.npy")), FormatError);
  write(temp_path("huge_bad.npy"), npy("<u2", "(100000000,)", ""));
  EXPECT_THROW((void)read_npy_int(temp_path("huge_bad.npy")), FormatError);
}

// Hostile-input review (docs/perf/fuzz.md): load_input_file decoded up to kMaxInputElements
// whatever the model's input size; now the model's input size is the cap, checked first.
TEST(InputFiles, InputLargerThanTheModelIsRefusedBeforeDecoding) {
  write(temp_path("big.npy"), npy("<f4", "(1, 1, 3, 3)", std::string(36, '\0')));
  EXPECT_THROW((void)load_input_file(temp_path("big.npy"), Shape{1, 1, 2, 2}), FormatError);
  const unsigned char rgb[2 * 3 * 3] = {};
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = 3;
  image.height = 2;
  image.format = PNG_FORMAT_RGB;
  ASSERT_TRUE(png_image_write_to_file(&image, temp_path("big.png").c_str(), 0, rgb, 0, nullptr));
  EXPECT_THROW((void)load_input_file(temp_path("big.png"), Shape{1, 3, 2, 2}), FormatError);
}

}  // namespace
}  // namespace pinfer::nn
