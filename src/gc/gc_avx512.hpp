#pragma once
// Private AVX-512 helpers of the gc layer (gc_avx512.cpp, built with AVX-512 flags). Callers
// use them only when cpu_supports(CpuPath::vaes), which implies AVX-512 F/BW/VL/DQ.
#include <cstddef>
#include <cstdint>

#include "pinfer/core/block.hpp"

namespace pinfer::gc::detail {

// out[i] = a[i] ^ b[i]; out may alias a or b.
void xor_rows_avx512(const Block* a, const Block* b, Block* out, std::size_t n) noexcept;

// The StreamChecksum lane update over `blocks` 64-byte blocks: lane j takes word j of each block.
void checksum_lanes_avx512(uint64_t lanes[8], const std::byte* p, std::size_t blocks) noexcept;

}  // namespace pinfer::gc::detail
