#pragma once
// Convolution and fully connected kernels shared by the float engine (T = float) and the
// fixed-point engine (T = uint64_t, wrapping mod 2^64, reduced mod 2^l by the caller: 2^l divides
// 2^64, so reducing once at the end equals reducing after every operation).
//
// Both accumulate into `out`, which the caller initialises (with the bias or zeros). Loop bounds
// depend only on the public geometry.
#include <algorithm>
#include <cstddef>

#include "pinfer/nn/lowered_model.hpp"

namespace pinfer::nn::detail {

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
template <typename T>
void conv2d_accumulate(const ConvGeometry& g, const T* x, const T* w, T* out) noexcept {
  const std::size_t out_plane = g.out_h * g.out_w;
  const std::size_t in_plane = g.in_h * g.in_w;
  for (std::size_t o = 0; o < g.out_channels; ++o) {
    T* out_o = out + o * out_plane;
    for (std::size_t c = 0; c < g.in_channels; ++c) {
      const T* x_c = x + c * in_plane;
      const T* w_oc = w + (o * g.in_channels + c) * g.kernel_h * g.kernel_w;
      for (std::size_t kh = 0; kh < g.kernel_h; ++kh) {
        const ValidRange rows = valid_range(kh, g.pad_top, g.stride_h, g.in_h, g.out_h);
        for (std::size_t kw = 0; kw < g.kernel_w; ++kw) {
          const ValidRange cols = valid_range(kw, g.pad_left, g.stride_w, g.in_w, g.out_w);
          if (cols.first == cols.last) continue;
          const T wv = w_oc[kh * g.kernel_w + kw];
          for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
            // In range by construction of `rows` / `cols`: 0 <= ih < in_h, 0 <= iw < in_w.
            const std::size_t ih = oh * g.stride_h + kh - g.pad_top;
            const T* x_row = x_c + ih * g.in_w;
            T* out_row = out_o + oh * g.out_w;
            if (g.stride_w == 1) {
              const T* x_shift = x_row + (cols.first + kw - g.pad_left);
              T* o_shift = out_row + cols.first;
              const std::size_t n = cols.last - cols.first;
              for (std::size_t i = 0; i < n; ++i) o_shift[i] += wv * x_shift[i];
            } else {
              for (std::size_t ow = cols.first; ow < cols.last; ++ow) {
                out_row[ow] += wv * x_row[ow * g.stride_w + kw - g.pad_left];
              }
            }
          }
        }
      }
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

}  // namespace pinfer::nn::detail
