// Fuzz target: the ONNX importer (nn::load_onnx_bytes) on model bytes, then the lowering of
// what it accepts (plan_lowering), with the importer's default limits.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "pinfer/nn/onnx_importer.hpp"
#include "pinfer/nn/quantizer.hpp"

using namespace pinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::expect_clean([&] {
    const nn::Model m = nn::load_onnx_bytes(fuzz::as_bytes(data, size), "fuzz");
    (void)nn::plan_lowering(m);
  });
  return 0;
}
