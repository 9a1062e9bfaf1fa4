#include "linear_dispatch.hpp"

#include "linear_kernels.hpp"
#include "pinfer/core/detail/cpu_features.hpp"

namespace pinfer::nn::detail {

RingKernel active_ring_kernel() {
  static const RingKernel k = [] {
    const CpuFeatures& f = cpu_features();
    const bool avx512 = f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl;
    return avx512 && preferred_cpu_path() != CpuPath::openssl ? RingKernel::avx512
                                                              : RingKernel::portable;
  }();
  return k;
}

void ring_conv_accumulate(RingKernel k, const ConvGeometry& g, const uint64_t* x, const uint64_t* w,
                          uint64_t* out) {
  if (k == RingKernel::avx512) return conv_accumulate_avx512(g, x, w, out);
  conv2d_accumulate<uint64_t>(g, x, w, out);
}

void ring_fc_accumulate(RingKernel k, std::size_t in, std::size_t out_features, const uint64_t* x,
                        const uint64_t* w, uint64_t* out) {
  if (k == RingKernel::avx512) return fc_accumulate_avx512(in, out_features, x, w, out);
  fc_accumulate<uint64_t>(in, out_features, x, w, out);
}

void ring_conv_accumulate32(RingKernel k, const ConvGeometry& g, const uint32_t* x,
                            const uint32_t* w, uint32_t* out) {
  if (k == RingKernel::avx512) return conv_accumulate32_avx512(g, x, w, out);
  conv2d_accumulate<uint32_t>(g, x, w, out);
}

void ring_fc_accumulate32(RingKernel k, std::size_t in, std::size_t out_features, const uint32_t* x,
                          const uint32_t* w, uint32_t* out) {
  if (k == RingKernel::avx512) return fc_accumulate32_avx512(in, out_features, x, w, out);
  fc_accumulate<uint32_t>(in, out_features, x, w, out);
}

}  // namespace pinfer::nn::detail
