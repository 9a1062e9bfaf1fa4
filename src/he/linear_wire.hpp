#pragma once
// Wire constants of linear-layer queries and responses (docs/HE.md, "Wire format").
#include <cstdint>

namespace pinfer::he::detail {

inline constexpr uint32_t kQueryMagic = 0x31514850;     // "PHQ1"
inline constexpr uint32_t kResponseMagic = 0x31524850;  // "PHR1"
inline constexpr uint32_t kWireVersion = 1;
inline constexpr std::size_t kQueryHeaderBytes = 40;
inline constexpr std::size_t kResponseHeaderBytes = 20;

}  // namespace pinfer::he::detail
