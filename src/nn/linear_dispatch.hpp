#pragma once
// Ring convolution / FC kernels by CPU path. The AVX-512 kernels (linear_kernels_avx512.cpp,
// compiled with AVX-512 flags) are the same loops as the portable ones, vectorised by the
// compiler (vpmullq for 64-bit lanes, vpmulld for 32-bit lanes when l <= 32: 2^l divides 2^32,
// so wrapping mod 2^32 and reducing mod 2^l afterwards is exact). All paths give identical
// results (tests/nn/fixed_point_engine_test.cpp compares them).
#include <cstddef>
#include <cstdint>

#include "pinfer/core/ring.hpp"
#include "pinfer/core/tensor.hpp"
#include "pinfer/nn/lowered_model.hpp"

namespace pinfer::nn::detail {

enum class RingKernel { portable, avx512 };

// avx512 when the CPU has AVX-512F/DQ and PINFER_CPU does not cap to portable; chosen once.
[[nodiscard]] RingKernel active_ring_kernel();

// out += W x over 64-bit lanes (mod 2^64), then the caller reduces mod 2^l.
void ring_conv_accumulate(RingKernel k, const ConvGeometry& g, const uint64_t* x, const uint64_t* w,
                          uint64_t* out);
void ring_fc_accumulate(RingKernel k, std::size_t in, std::size_t out_features, const uint64_t* x,
                        const uint64_t* w, uint64_t* out);
// The same over 32-bit lanes (mod 2^32), for l <= 32.
void ring_conv_accumulate32(RingKernel k, const ConvGeometry& g, const uint32_t* x,
                            const uint32_t* w, uint32_t* out);
void ring_fc_accumulate32(RingKernel k, std::size_t in, std::size_t out_features, const uint32_t* x,
                          const uint32_t* w, uint32_t* out);

// apply_linear on a given kernel path (fixed_point_engine.cpp), for tests comparing paths.
[[nodiscard]] RingTensor apply_linear_on(RingKernel k, const Ring& ring, const LinearOp& op,
                                         const RingTensor& x, bool add_bias);

// Implemented in linear_kernels_avx512.cpp. Requires: AVX-512F/DQ/BW/VL.
void conv_accumulate_avx512(const ConvGeometry& g, const uint64_t* x, const uint64_t* w,
                            uint64_t* out);
void fc_accumulate_avx512(std::size_t in, std::size_t out_features, const uint64_t* x,
                          const uint64_t* w, uint64_t* out);
void conv_accumulate32_avx512(const ConvGeometry& g, const uint32_t* x, const uint32_t* w,
                              uint32_t* out);
void fc_accumulate32_avx512(std::size_t in, std::size_t out_features, const uint32_t* x,
                            const uint32_t* w, uint32_t* out);

}  // namespace pinfer::nn::detail
