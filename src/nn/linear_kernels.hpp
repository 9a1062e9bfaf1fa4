#pragma once
// Convolution and fully connected kernels shared by the float engine (T = float) and the
// fixed-point engine (T = uint64_t, wrapping mod 2^64, reduced mod 2^l by the caller: 2^l divides
// 2^64, so reducing once at the end equals reducing after every operation).
//
// Both accumulate into `out`, which the caller initialises (with the bias or zeros). Loop bounds
// depend only on the public geometry. The convolution allocates its unfolded input.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "pinfer/nn/lowered_model.hpp"

namespace pinfer::nn::detail {
// Unnamed namespace: every translation unit gets its own copy. linear_kernels_avx512.cpp compiles
// these templates with AVX-512 enabled; with external linkage the linker could pick that copy
// for the portable callers too (an ODR trap that crashes on older CPUs).
namespace {

// Output positions [first, last) whose input index o*stride + k - pad lies in [0, n).
struct ValidRange {
  std::size_t first = 0, last = 0;
};
[[nodiscard]] inline ValidRange valid_range(std::size_t k, std::size_t pad, std::size_t stride,
                                            std::size_t n, std::size_t out) noexcept {
  ValidRange r;
  r.first = k >= pad ? 0 : (pad - k + stride - 1) / stride;
  if (n + pad <= k) return {0, 0};
  r.last = std::min(out, (n - 1 + pad - k) / stride + 1);
  if (r.first > r.last) r.first = r.last;
  return r;
}

// out[O][oh][ow] += sum_{c,kh,kw} w[O][c][kh][kw] * x[c][oh*s + kh - pad][ow*s + kw - pad].
// As a matrix product: the input is unfolded once into columns cols[c,kh,kw][oh,ow] (zeros where
// the window hits the padding), then out[O x P] += W[O x R] cols[R x P], four output channels at
// a time so that each column row is loaded once per four rows of output (kept in L1).
template <typename T>
void conv2d_accumulate(const ConvGeometry& g, const T* x, const T* w, T* out) {
  const std::size_t P = g.out_h * g.out_w;
  const std::size_t R = g.in_channels * g.kernel_h * g.kernel_w;
  const std::size_t in_plane = g.in_h * g.in_w;
  std::vector<T> cols(R * P, T{0});
  for (std::size_t c = 0; c < g.in_channels; ++c) {
    const T* x_c = x + c * in_plane;
    for (std::size_t kh = 0; kh < g.kernel_h; ++kh) {
      const ValidRange rows = valid_range(kh, g.pad_top, g.stride_h, g.in_h, g.out_h);
      for (std::size_t kw = 0; kw < g.kernel_w; ++kw) {
        const ValidRange cs = valid_range(kw, g.pad_left, g.stride_w, g.in_w, g.out_w);
        if (cs.first == cs.last) continue;
        T* col = cols.data() + ((c * g.kernel_h + kh) * g.kernel_w + kw) * P;
        for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
          // In range by construction of `rows` / `cs`: 0 <= ih < in_h, 0 <= iw < in_w.
          const T* x_row = x_c + (oh * g.stride_h + kh - g.pad_top) * g.in_w;
          T* col_row = col + oh * g.out_w;
          for (std::size_t ow = cs.first; ow < cs.last; ++ow) {
            col_row[ow] = x_row[ow * g.stride_w + kw - g.pad_left];
          }
        }
      }
    }
  }
  std::size_t o = 0;
  for (; o + 4 <= g.out_channels; o += 4) {
    T* __restrict o0 = out + o * P;
    T* __restrict o1 = o0 + P;
    T* __restrict o2 = o1 + P;
    T* __restrict o3 = o2 + P;
    for (std::size_t r = 0; r < R; ++r) {
      const T* __restrict col = cols.data() + r * P;
      const T a = w[o * R + r], b = w[(o + 1) * R + r], c = w[(o + 2) * R + r],
              d = w[(o + 3) * R + r];
      for (std::size_t p = 0; p < P; ++p) {
        const T v = col[p];
        o0[p] += a * v;
        o1[p] += b * v;
        o2[p] += c * v;
        o3[p] += d * v;
      }
    }
  }
  for (; o < g.out_channels; ++o) {
    T* __restrict o0 = out + o * P;
    for (std::size_t r = 0; r < R; ++r) {
      const T* __restrict col = cols.data() + r * P;
      const T a = w[o * R + r];
      for (std::size_t p = 0; p < P; ++p) o0[p] += a * col[p];
    }
  }
}

// out[o] += sum_i w[o][i] * x[i].
template <typename T>
void fc_accumulate(std::size_t in, std::size_t out_features, const T* x, const T* w,
                   T* out) noexcept {
  for (std::size_t o = 0; o < out_features; ++o) {
    const T* w_o = w + o * in;
    T acc = 0;
    for (std::size_t i = 0; i < in; ++i) acc += w_o[i] * x[i];
    out[o] += acc;
  }
}

}  // namespace
}  // namespace pinfer::nn::detail
