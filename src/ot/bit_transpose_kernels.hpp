#pragma once
// Private kernels of transpose_128xn; each ISA variant lives in a file built with its flags.
// All take in = 128 rows of n_blocks Blocks, row i starting at in + i * row_stride, and write
// 128 * n_blocks Blocks (see pinfer/ot/detail/bit_transpose.hpp for the layout). The data is secret
// but the access pattern depends only on n_blocks.
#include <cstddef>

#include "pinfer/core/block.hpp"

namespace pinfer::ot::detail {

void transpose_portable(const Block* in, std::size_t row_stride, std::size_t n_blocks,
                        Block* out) noexcept;
void transpose_sse2(const Block* in, std::size_t row_stride, std::size_t n_blocks,
                    Block* out) noexcept;
void transpose_avx2(const Block* in, std::size_t row_stride, std::size_t n_blocks,
                    Block* out) noexcept;
void transpose_avx512(const Block* in, std::size_t row_stride, std::size_t n_blocks,
                      Block* out) noexcept;

}  // namespace pinfer::ot::detail
