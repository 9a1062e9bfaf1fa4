#include "pinfer/ot/detail/bit_transpose.hpp"

#include <string>

#include "bit_transpose_kernels.hpp"
#include "pinfer/core/detail/cpu_features.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::ot {
namespace {

TransposePath choose_path() {
  // PINFER_CPU caps the path: vaes allows AVX-512, aesni allows AVX2, portable the scalar code.
  const CpuPath cap = preferred_cpu_path();
  const CpuFeatures& f = cpu_features();
  if (cap == CpuPath::openssl) return TransposePath::portable;
  if (cap == CpuPath::vaes && f.avx512f && f.avx512bw) return TransposePath::avx512;
  if (f.avx2) return TransposePath::avx2;
  return TransposePath::sse2;
}

}  // namespace

std::string_view to_string(TransposePath path) {
  switch (path) {
    case TransposePath::portable:
      return "portable";
    case TransposePath::sse2:
      return "sse2";
    case TransposePath::avx2:
      return "avx2";
    case TransposePath::avx512:
      return "avx512";
  }
  return "unknown";
}

bool transpose_path_supported(TransposePath path) {
  const CpuFeatures& f = cpu_features();
  switch (path) {
    case TransposePath::portable:
    case TransposePath::sse2:
      return true;
    case TransposePath::avx2:
      return f.avx2;
    case TransposePath::avx512:
      return f.avx512f && f.avx512bw;
  }
  return false;
}

TransposePath transpose_active_path() {
  static const TransposePath path = choose_path();
  return path;
}

void transpose_128xn_strided_with(TransposePath path, std::span<const Block> in,
                                  std::size_t row_stride, std::size_t n_blocks,
                                  std::span<Block> out) {
  if (n_blocks == 0) {
    if (!out.empty()) throw InvalidArgument("transpose_128xn: out must be empty for 0 blocks");
    return;
  }
  if (row_stride < n_blocks || in.size() < 127 * row_stride + n_blocks ||
      out.size() != 128 * n_blocks) {
    throw InvalidArgument("transpose_128xn: in has " + std::to_string(in.size()) +
                          " blocks (row_stride " + std::to_string(row_stride) + ") and out " +
                          std::to_string(out.size()) + ", expected 128 rows of " +
                          std::to_string(n_blocks));
  }
  if (!transpose_path_supported(path)) {
    throw InvalidArgument("transpose path " + std::string(to_string(path)) +
                          " is not supported by this CPU");
  }
  switch (path) {
    case TransposePath::portable:
      detail::transpose_portable(in.data(), row_stride, n_blocks, out.data());
      return;
    case TransposePath::sse2:
      detail::transpose_sse2(in.data(), row_stride, n_blocks, out.data());
      return;
    case TransposePath::avx2:
      detail::transpose_avx2(in.data(), row_stride, n_blocks, out.data());
      return;
    case TransposePath::avx512:
      detail::transpose_avx512(in.data(), row_stride, n_blocks, out.data());
      return;
  }
}

void transpose_128xn_strided(std::span<const Block> in, std::size_t row_stride,
                             std::size_t n_blocks, std::span<Block> out) {
  transpose_128xn_strided_with(transpose_active_path(), in, row_stride, n_blocks, out);
}

void transpose_128xn_with(TransposePath path, std::span<const Block> in, std::size_t n_blocks,
                          std::span<Block> out) {
  if (in.size() != 128 * n_blocks) {
    throw InvalidArgument("transpose_128xn: in has " + std::to_string(in.size()) +
                          " blocks, expected " + std::to_string(128 * n_blocks));
  }
  transpose_128xn_strided_with(path, in, n_blocks, n_blocks, out);
}

void transpose_128xn(std::span<const Block> in, std::size_t n_blocks, std::span<Block> out) {
  transpose_128xn_with(transpose_active_path(), in, n_blocks, out);
}

}  // namespace pinfer::ot
