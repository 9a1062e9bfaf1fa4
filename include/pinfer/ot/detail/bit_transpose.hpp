#pragma once
// Transpose of a 128 x (128 * n_blocks) bit matrix, the core data movement of IKNP.
//
// Row i (i < 128) is n_blocks consecutive Blocks at in[i * n_blocks]; bit j of a row is bit
// j % 128 of Block j / 128 (Block bit k is bit k % 64 of lo for k < 64, of hi otherwise, i.e.
// little-endian byte order). Output: 128 * n_blocks Blocks, where bit i of out[j] is bit j of
// row i. Kernels: movemask-based SSE2 (baseline x86-64), AVX2 and AVX-512BW after a byte-level
// 16 x 16 transpose, plus a portable 8 x 8 bit-block kernel; chosen once at run time (widest
// first, capped by PINFER_CPU: vaes -> avx512, aesni -> avx2, portable -> portable).
#include <cstddef>
#include <span>
#include <string_view>

#include "pinfer/core/block.hpp"

namespace pinfer::ot {

enum class TransposePath { portable, sse2, avx2, avx512 };

[[nodiscard]] std::string_view to_string(TransposePath path);
// True if this CPU can run `path`.
[[nodiscard]] bool transpose_path_supported(TransposePath path);
// The path transpose_128xn uses (chosen once).
[[nodiscard]] TransposePath transpose_active_path();

// Requires: in.size() == out.size() == 128 * n_blocks; in and out do not overlap.
// Throws InvalidArgument on wrong sizes.
void transpose_128xn(std::span<const Block> in, std::size_t n_blocks, std::span<Block> out);

// Rows at in[i * row_stride] (row_stride >= n_blocks). A stride that is not a multiple of 4 KiB
// keeps the 128 rows out of one L1 set; IKNP uses n_blocks + 4 (one cache line of padding).
// Requires: in.size() >= 127 * row_stride + n_blocks, out.size() == 128 * n_blocks; no overlap.
// Throws InvalidArgument on wrong sizes or an unsupported path.
void transpose_128xn_strided(std::span<const Block> in, std::size_t row_stride,
                             std::size_t n_blocks, std::span<Block> out);
void transpose_128xn_strided_with(TransposePath path, std::span<const Block> in,
                                  std::size_t row_stride, std::size_t n_blocks,
                                  std::span<Block> out);
// transpose_128xn on a given path; throws InvalidArgument if the CPU cannot run it.
void transpose_128xn_with(TransposePath path, std::span<const Block> in, std::size_t n_blocks,
                          std::span<Block> out);

}  // namespace pinfer::ot
