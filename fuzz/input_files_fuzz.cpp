// Fuzz target: network inputs from files (nn/input_files.hpp): .npy float and integer arrays,
// PGM and PNG images, and load_input_file for a 1x3x8x8 model input. Byte 0 picks the reader.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "pinfer/nn/input_files.hpp"

using namespace pinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::span<const uint8_t> body(data + 1, size - 1);
  fuzz::expect_clean([&] {
    switch (data[0] % 6) {
      case 0:
        (void)nn::read_npy_float(fuzz::scratch_file(body, ".npy"));
        break;
      case 1:
        (void)nn::read_npy_int(fuzz::scratch_file(body, ".npy"));
        break;
      case 2:
        (void)nn::read_pgm(fuzz::scratch_file(body, ".pgm"));
        break;
      case 3:
        (void)nn::read_png(fuzz::scratch_file(body, ".png"), 1 + 2 * (data[0] >> 7));
        break;
      case 4:
        (void)nn::load_input_file(fuzz::scratch_file(body, ".npy"), Shape{1, 3, 8, 8});
        break;
      default:
        (void)nn::load_input_file(fuzz::scratch_file(body, ".png"), Shape{1, 3, 8, 8});
        break;
    }
  });
  return 0;
}
