// The ring kernels of linear_kernels.hpp compiled with AVX-512 (this file only; see
// cmake/PinferLayer.cmake), so the compiler vectorises the multiply-accumulate loops.
#include "linear_dispatch.hpp"
#include "linear_kernels.hpp"

namespace pinfer::nn::detail {

void conv_accumulate_avx512(const ConvGeometry& g, const uint64_t* x, const uint64_t* w,
                            uint64_t* out) {
  conv2d_accumulate<uint64_t>(g, x, w, out);
}

void fc_accumulate_avx512(std::size_t in, std::size_t out_features, const uint64_t* x,
                          const uint64_t* w, uint64_t* out) {
  fc_accumulate<uint64_t>(in, out_features, x, w, out);
}

void conv_accumulate32_avx512(const ConvGeometry& g, const uint32_t* x, const uint32_t* w,
                              uint32_t* out) {
  conv2d_accumulate<uint32_t>(g, x, w, out);
}

void fc_accumulate32_avx512(std::size_t in, std::size_t out_features, const uint32_t* x,
                            const uint32_t* w, uint32_t* out) {
  fc_accumulate<uint32_t>(in, out_features, x, w, out);
}

}  // namespace pinfer::nn::detail
